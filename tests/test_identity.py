"""Identity: dlib embeddings, gallery files, enrol / identify round trips, CK+ identification."""
from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import run_cli
from ferkit.data.ckplus import CKPlus
from ferkit.errors import BadInputError
from ferkit.identity import UNKNOWN, Gallery
from ferkit.identity.embedder import DlibEmbedder
from ferkit.identity.evaluate import embed_crops, identification_report


@pytest.fixture(scope="module")
def ck_subset(shared):
    """The images of 12 CK+ subjects (about 100 images)."""
    ds = CKPlus(shared / "ckplus48.tar")
    keep = np.isin(ds.subjects, np.unique(ds.subjects)[:12])
    return ds.images[keep], ds.subjects[keep]


def test_ckplus_identification_on_a_subset(ck_subset):
    images, subjects = ck_subset
    rep = identification_report(images, subjects, sweep=(0.5,))
    assert rep["n_subjects"] == 12 and rep["n_probes"] == len(images) - 12
    assert rep["identification_accuracy"] >= 0.9
    assert 0.0 <= rep["false_accept_rate"] <= 1.0
    assert rep["operating_points"][0]["threshold"] == 0.5
    assert [op["threshold"] for op in rep["operating_points_unmirrored"]] == [0.5]  # plain dlib, same sweep
    h = rep["heldout"]  # a threshold picked on each half of the subjects, scored on the other half
    assert len(h["folds"]) == 2 and sum(f["n_subjects"] for f in h["folds"]) == 12
    assert all(0.4 <= f["threshold"] <= 0.7 and f["identification_accuracy"] >= 0.85 for f in h["folds"])


def test_mirror_averaged_embedding_is_nearly_mirror_invariant(ck_subset):
    """A face and its mirror image get much closer embeddings with mirror averaging than without (dlib alone)."""
    images = ck_subset[0][::10]
    box = np.array([[0, 0, 48, 48]], np.float32)
    gaps = {}
    for mirror in (False, True):
        e = DlibEmbedder(mirror=mirror)
        gaps[mirror] = np.mean([np.linalg.norm(e.embed(im, box) - e.embed(np.ascontiguousarray(im[:, ::-1]), box))
                                for im in images])
    assert gaps[True] < 0.6 * gaps[False] and gaps[True] < 0.1


def test_gallery_round_trip_and_unknown(ck_subset, tmp_path):
    images, subjects = ck_subset
    emb = embed_crops(images)
    assert emb.shape == (len(images), 128) and np.isfinite(emb).all()
    d = np.linalg.norm(emb[:, None] - emb[None], axis=-1)
    same = subjects[:, None] == subjects[None]
    assert d[same & ~np.eye(len(d), dtype=bool)].mean() < 0.75 * d[~same].mean()  # people cluster
    g = Gallery(threshold=0.6, k=1)
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
    from ferkit.io import read_image
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
    from ferkit.identity.enroll import enroll
    from ferkit.runtime.analyzer import Analyzer
    g = tmp_path / "plain.npz"
    Gallery(mirror=False).save(g)
    enroll(g, "ada", [str(demo / "woman_portrait.jpg")])
    assert Gallery.load(g).mirror is False
    app = Analyzer(gallery=g)
    assert app.embedder.mirror is False
    (face,) = app(demo / "woman_portrait.jpg").faces
    assert face.identity == "ada" and face.identity_distance < 1e-3  # the same face, embedded the same way
