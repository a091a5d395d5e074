"""Identity: dlib embeddings, LBP texture, gallery files, enrol / identify round trips, CK+ identification."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ferkit.data.ckplus import CKPlus
from ferkit.errors import BadInputError
from ferkit.identity import UNKNOWN, Gallery
from ferkit.identity.embedder import DlibEmbedder
from ferkit.identity.evaluate import crop_embeddings, embed_crops, identification_report
from ferkit.identity.texture import lbp_histograms
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def ck_subset(shared):
    """The images of 12 CK+ subjects (about 100 images)."""
    ds = CKPlus(shared / "ckplus48.tar")
    keep = np.isin(ds.subjects, np.unique(ds.subjects)[:12])
    return ds.images[keep], ds.subjects[keep]


def test_ckplus_identification_on_a_subset(ck_subset):
    images, subjects = ck_subset
    rep = identification_report(images, subjects, sweep=(-0.1, 0.0))
    assert rep["n_subjects"] == 12 and rep["n_probes"] == len(images) - 12 and rep["dim"] == 128 + 16 * 59
    # on these 12 subjects: 84.8% and 4.2% at 0.80 (dlib's part alone at its 0.55: 90.9% and 10.4%)
    assert rep["identification_accuracy"] >= 0.8 and rep["false_accept_rate"] <= 0.1
    assert [op["threshold"] for op in rep["operating_points"]] == [round(rep["threshold"] - 0.1, 2), rep["threshold"]]
    assert rep["operating_points"][0]["false_accept_rate"] <= rep["false_accept_rate"]  # stricter, fewer accepts
    h = rep["heldout"]  # a threshold picked on each half of the subjects, scored on the other half
    assert len(h["folds"]) == 2 and sum(f["n_subjects"] for f in h["folds"]) == 12
    assert all(0.6 <= f["threshold"] <= 1.0 and f["identification_accuracy"] >= 0.85 for f in h["folds"])
    hw = rep["heldout_weight"]  # the texture weight picked that way too
    assert all(f["weight"] in hw["weights"] for f in hw["folds"])
    assert [v["embedder"] for v in rep["variants"]] == [
        "dlib, mirror-averaged, no texture",
        "dlib, plain (one view), no texture",
    ]
    assert all(0.4 <= v["heldout"]["folds"][0]["threshold"] <= 0.7 for v in rep["variants"])  # dlib's own scale


def test_lbp_texture_ignores_lighting_but_tells_faces_apart(ck_subset):
    """A monotonic grey-level change (gamma, brightness) leaves the descriptor unchanged; another subject's face
    is far from it."""
    images, subjects = ck_subset
    face = images[0].astype(np.float32)
    relit = 255 * (face / 255) ** 0.6 + 10
    a, b = lbp_histograms(np.stack([face, relit]), grid=4)
    assert np.abs(a - b).max() < 1e-6
    other = lbp_histograms(images[subjects != subjects[0]][:1].astype(np.float32), grid=4)[0]
    assert np.linalg.norm(a - other) > 0.5


def test_mirror_averaged_embedding_is_nearly_mirror_invariant(ck_subset):
    """A face and its mirror image get much closer embeddings with mirror averaging than without (dlib alone)."""
    images = ck_subset[0][::10]
    box = np.array([[0, 0, 48, 48]], np.float32)
    gaps = {}
    for mirror in (False, True):
        e = DlibEmbedder(mirror=mirror, texture={"weight": 0.0, "size": 48, "grid": 4})  # dlib's part alone
        gaps[mirror] = np.mean(
            [np.linalg.norm(e.embed(im, box) - e.embed(np.ascontiguousarray(im[:, ::-1]), box)) for im in images]
        )
    assert gaps[True] < 0.6 * gaps[False] and gaps[True] < 0.1


def test_gallery_round_trip_and_unknown(ck_subset, tmp_path):
    images, subjects = ck_subset
    assert embed_crops(images[:2]).shape == (2, 128)  # dlib's part alone
    emb = crop_embeddings(images)
    assert emb.shape == (len(images), 128 + 16 * 59) and np.isfinite(emb).all()
    d = np.linalg.norm(emb[:, None] - emb[None], axis=-1)
    same = subjects[:, None] == subjects[None]
    assert d[same & ~np.eye(len(d), dtype=bool)].mean() < 0.75 * d[~same].mean()  # people cluster
    g = Gallery(threshold=10.0, k=1)  # closed set: the nearest enrolled name (threshold checks: the CK+ report)
    names = np.unique(subjects)
    for s in names[:6]:
        i = np.flatnonzero(subjects == s)
        g.add(str(s), emb[i[:1]])
    g.save(tmp_path / "g.npz")
    g2 = Gallery.load(tmp_path / "g.npz")
    assert g2.people == sorted(map(str, names[:6])) and np.array_equal(g2.embeddings, g.embeddings)
    probes = [i for s in names[:6] for i in np.flatnonzero(subjects == s)[1:]]
    got = [n for n, _ in g2.identify(emb[probes])]
    assert np.mean([n == subjects[i] for n, i in zip(got, probes)]) >= 0.9
    strict = Gallery(threshold=0.1)
    strict.add("x", emb[:1])
    assert strict.identify(emb[-1:])[0][0] == UNKNOWN  # far from every enrolled face


def test_enroll_and_analyze_with_gallery(demo, tmp_path):
    g = tmp_path / "people.npz"
    run_cli("enroll", demo / "woman_portrait.jpg", "--gallery", g, "--name", "ada", check=True)
    run_cli("enroll", demo / "model_face.jpg", "--gallery", g, "--name", "bea", check=True)
    assert Gallery.load(g).people == ["ada", "bea"]
    run_cli("analyze", demo / "woman_portrait.jpg", "--gallery", g, "--out", tmp_path / "a", check=True)
    (rec,) = json.loads((tmp_path / "a" / "results.json").read_text())
    assert rec["identity"] == "ada" and rec["identity_distance"] < 0.1
    run_cli("analyze", demo / "laos.jpg", "--gallery", g, "--out", tmp_path / "b", check=True)
    recs = json.loads((tmp_path / "b" / "results.json").read_text())
    assert len(recs) == 2 and {r["identity"] for r in recs} == {UNKNOWN}


def test_enroll_without_a_face_changes_nothing(demo, tmp_path):
    import cv2

    from ferkit.utils.io import read_image

    cv2.imwrite(str(tmp_path / "floor.png"), read_image(demo / "Solvay_conference_1927.jpg")[420:, :])
    p = run_cli("enroll", demo / "laos.jpg", tmp_path / "floor.png", "--gallery", tmp_path / "g.npz", "--name", "x")
    assert p.returncode == 2 and "no face found in" in p.stderr and "floor.png" in p.stderr
    assert not (tmp_path / "g.npz").exists()


@pytest.mark.parametrize("content", [b"not a gallery", b"PK\x03\x04truncated zip"])
def test_corrupt_gallery_is_a_clear_error(demo, tmp_path, content):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content)
    with pytest.raises(BadInputError, match="not a readable ferkit gallery"):
        Gallery.load(bad)
    p = run_cli("analyze", demo / "laos.jpg", "--gallery", bad, "--out", tmp_path / "out")
    assert p.returncode == 2 and "gallery" in p.stderr and p.stderr.count("\n") == 1
    assert not (tmp_path / "out" / "results.json").exists()


def test_gallery_keeps_its_embedding_mode(demo, tmp_path):
    """A gallery enrolled without mirror averaging is matched without it: the mode is saved in the file."""
    from ferkit.app.analyzer import Analyzer
    from ferkit.identity.enroll import enroll

    g = tmp_path / "plain.npz"
    Gallery(mirror=False).save(g)
    enroll(g, "ada", [str(demo / "woman_portrait.jpg")])
    assert Gallery.load(g).mirror is False
    app = Analyzer(gallery=g)
    assert app.embedder.mirror is False
    (face,) = app(demo / "woman_portrait.jpg").faces
    assert face.identity == "ada" and face.identity_distance < 1e-3  # the same face, embedded the same way


def test_gallery_keeps_its_texture_setting(demo, tmp_path):
    """A gallery made without the texture part (weight 0, as galleries before it were) is matched without it; a
    file whose embeddings do not fit its settings is a clear error."""
    from ferkit.app.analyzer import Analyzer
    from ferkit.identity.enroll import enroll

    g = tmp_path / "dlib_only.npz"
    Gallery(texture={"weight": 0.0, "size": 48, "grid": 4}).save(g)
    enroll(g, "ada", [str(demo / "woman_portrait.jpg")])
    assert Gallery.load(g).embeddings.shape == (1, 128)
    app = Analyzer(gallery=g)
    (face,) = app(demo / "woman_portrait.jpg").faces
    assert face.identity == "ada" and face.identity_distance < 1e-3
    bad = Gallery.load(g)
    bad.texture = {"weight": 0.25, "size": 48, "grid": 4}
    bad.save(tmp_path / "bad.npz")
    with pytest.raises(BadInputError, match="a damaged gallery"):
        Gallery.load(tmp_path / "bad.npz")
