"""Identification on a dataset with subject ids (CK+): enrol one image per subject, identify the others; and
open-set rejection: subjects never enrolled must come back ``unknown``."""

from __future__ import annotations

import time

import numpy as np

from ferkit.config import IDENTITY_TARGET, IDENTITY_TEXTURE_WEIGHTS, IDENTITY_THRESHOLD_GRID

from .embedder import EMBEDDING_DIM, DlibEmbedder, combine
from .gallery import DEFAULT_THRESHOLD, UNKNOWN, Gallery
from .texture import N_BINS

_KEYS = ("threshold", "identification_accuracy", "false_accept_rate")


def _whole(img: np.ndarray) -> np.ndarray:
    return np.array([[0, 0, img.shape[1], img.shape[0]]], np.float32)


def embed_crops(images: np.ndarray, embedder: DlibEmbedder | None = None, views: bool = False) -> np.ndarray:
    """dlib embeddings of face crops (N, H, W) or (N, H, W, 3), each crop taken as the face box: (N, 128), or with
    ``views`` (V, N, 128), one row per view (``DlibEmbedder.embed_views``). No texture part."""
    embedder = embedder or DlibEmbedder()
    out = [embedder.embed_views(img, _whole(img)) for img in images]
    emb = np.concatenate(out, axis=1) if out else np.zeros((embedder.n_views, 0, EMBEDDING_DIM), np.float32)
    return emb if views else emb.mean(0)


def crop_textures(images: np.ndarray, embedder: DlibEmbedder) -> np.ndarray:
    """(N, T) unweighted texture descriptors of face crops, each crop taken as the face box."""
    return (
        np.concatenate([embedder.textures(img, _whole(img)) for img in images])
        if len(images)
        else np.zeros((0, embedder.texture["grid"] ** 2 * N_BINS), np.float32)
    )


def crop_embeddings(images: np.ndarray, embedder: DlibEmbedder | None = None) -> np.ndarray:
    """(N, dim) full embeddings (``DlibEmbedder.embed``: dlib's, then the weighted texture) of face crops."""
    embedder = embedder or DlibEmbedder()
    out = [embedder.embed(img, _whole(img)) for img in images]
    return np.concatenate(out) if out else np.zeros((0, embedder.dim), np.float32)


def identification_report(
    images: np.ndarray,
    subjects: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    k: int = 1,
    embedder: DlibEmbedder | None = None,
    sweep: tuple[float, ...] = (-0.15, -0.1, -0.05, 0.0, 0.05, 0.1),
) -> dict:
    """Closed set: the first image (in dataset order) of every subject is enrolled, every other image is a probe
    (accuracy = probes given their own name). Open set: subjects are split in two by their sorted order (every
    other subject), the first half enrolled; probes of the second half that get a name are false accepts.
    ``operating_points``: the protocols at ``threshold`` + each ``sweep`` offset. ``heldout``: a threshold chosen
    without the test subjects (``heldout_threshold``); ``heldout_weight``: the texture weight chosen that way too.
    ``variants``: dlib's embeddings without the texture part, mirror-averaged and plain, for comparison: each
    with its own held-out threshold, and on all subjects at the smallest threshold reaching the target there."""
    embedder = embedder or DlibEmbedder()
    subjects = np.asarray(subjects)
    t = time.perf_counter()
    weight = embedder.texture["weight"]
    views = embed_crops(images, embedder, views=True)
    texture = crop_textures(images, embedder) if weight else None
    seconds = time.perf_counter() - t
    emb = combine(views.mean(0), texture, weight)
    rep = {"embedder": embedder.description, "dim": int(emb.shape[1]), **_protocols(emb, subjects, threshold, k)}
    rep["operating_points"] = [
        {kk: v for kk, v in _protocols(emb, subjects, round(threshold + d, 2), k).items() if kk in _KEYS} for d in sweep
    ]
    rep["heldout"] = heldout_threshold(emb, subjects, k)
    variants = [("dlib, plain (one view), no texture", views[0])]
    if weight:  # without the texture, the embedding above is dlib's mirror-averaged one
        rep["heldout_weight"] = heldout_weight(views.mean(0), texture, subjects, k)
        variants.insert(0, ("dlib, mirror-averaged, no texture", views.mean(0)))
    rep["variants"] = [
        {
            "embedder": name,
            "heldout": heldout_threshold(e, subjects, k),
            "all_subjects": {
                kk: v
                for kk, v in _rule(e, subjects, k, IDENTITY_TARGET, IDENTITY_THRESHOLD_GRID).items()
                if kk in _KEYS
            },
        }
        for name, e in variants
    ]
    rep["ms_per_face"] = round(seconds / max(len(subjects), 1) * 1000, 2)
    return rep


def _halves(subjects: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(pick, test) masks: the subjects split in two halves (every other one in sorted order), both ways round."""
    subs = np.unique(subjects)
    return [
        (np.isin(subjects, a), np.isin(subjects, b)) for a, b in ((subs[0::2], subs[1::2]), (subs[1::2], subs[0::2]))
    ]


def _rule(emb: np.ndarray, subjects: np.ndarray, k: int, target: float, grid: tuple[float, ...]) -> dict:
    """The protocols at the smallest ``grid`` threshold whose closed-set accuracy reaches ``target`` (else at the
    largest)."""
    for t in grid:
        r = _protocols(emb, subjects, t, k)
        if r["identification_accuracy"] >= target:
            return r
    return r


def _scored(emb: np.ndarray, subjects: np.ndarray, threshold: float, k: int) -> dict:
    r = _protocols(emb, subjects, threshold, k)
    return {
        kk: r[kk]
        for kk in (
            "threshold",
            "identification_accuracy",
            "false_accept_rate",
            "n_subjects",
            "n_probes",
            "open_set_enrolled_subjects",
            "open_set_unknown_probes",
        )
    }


def _mean(folds: list[dict]) -> dict:
    return {
        kk: round(float(np.mean([f[kk] for f in folds])), 4) for kk in ("identification_accuracy", "false_accept_rate")
    }


def heldout_threshold(
    emb: np.ndarray,
    subjects: np.ndarray,
    k: int = 1,
    target: float = IDENTITY_TARGET,
    grid: tuple[float, ...] = IDENTITY_THRESHOLD_GRID,
) -> dict:
    """A threshold chosen without the subjects it is scored on: the subjects are split in two halves (every other
    one in sorted order); on each half, the smallest ``grid`` threshold whose closed-set accuracy reaches ``target``
    is applied to the other half, scored with the same closed and open sets (within that half)."""
    folds = [
        _scored(emb[mt], subjects[mt], _rule(emb[mp], subjects[mp], k, target, grid)["threshold"], k)
        for mp, mt in _halves(subjects)
    ]
    return {"target": target, "folds": folds, **_mean(folds)}


def heldout_weight(
    dlib_part: np.ndarray,
    texture: np.ndarray,
    subjects: np.ndarray,
    k: int = 1,
    target: float = IDENTITY_TARGET,
    weights: tuple[float, ...] = IDENTITY_TEXTURE_WEIGHTS,
    grid: tuple[float, ...] = IDENTITY_THRESHOLD_GRID,
) -> dict:
    """The texture weight and threshold both chosen without the subjects they are scored on: on each half, every
    ``weights`` entry gets its ``heldout_threshold`` rule's threshold; the weight whose false-accept rate there is
    lowest (the first on ties), with its threshold, is applied to the other half."""
    folds = []
    for mp, mt in _halves(subjects):
        best = None
        for w in weights:
            r = _rule(combine(dlib_part[mp], texture[mp], w), subjects[mp], k, target, grid)
            if r["identification_accuracy"] >= target and (best is None or r["false_accept_rate"] < best[1]):
                best = (w, r["false_accept_rate"], r["threshold"])
        w, _, t = best or (weights[0], None, grid[-1])
        folds.append({"weight": w, **_scored(combine(dlib_part[mt], texture[mt], w), subjects[mt], t, k)})
    return {"target": target, "weights": list(weights), "folds": folds, **_mean(folds)}


def _protocols(emb: np.ndarray, subjects: np.ndarray, threshold: float, k: int) -> dict:
    first = {s: int(np.flatnonzero(subjects == s)[0]) for s in np.unique(subjects)}
    enrolled = np.zeros(len(subjects), bool)
    enrolled[list(first.values())] = True

    def run(gallery_subjects: set[str]) -> tuple[list[str], np.ndarray]:
        g = Gallery(threshold=threshold, k=k, dim=emb.shape[1])  # this embedding's length, whatever its parts
        for s in sorted(gallery_subjects):
            g.add(s, emb[first[s]][None])
        probes = np.flatnonzero(~enrolled)
        return [n for n, _ in g.identify(emb[probes])], probes

    names, probes = run(set(first))
    correct = np.array([n == subjects[i] for n, i in zip(names, probes)])
    known = set(sorted(first)[::2])
    names_o, probes_o = run(known)
    unknown_probe = np.array([subjects[i] not in known for i in probes_o])
    accepted = np.array([n != UNKNOWN for n in names_o])
    known_correct = np.array([n == subjects[i] for n, i in zip(names_o, probes_o)])[~unknown_probe]
    return {
        "threshold": threshold,
        "k": k,
        "n_images": int(len(subjects)),
        "n_subjects": len(first),
        "n_probes": int(len(probes)),
        "identification_accuracy": round(float(correct.mean()), 4) if len(correct) else None,
        "rejected_known": int(sum(n == UNKNOWN for n in names)),
        "open_set_enrolled_subjects": len(known),
        "open_set_unknown_probes": int(unknown_probe.sum()),
        "false_accept_rate": round(float(accepted[unknown_probe].mean()), 4) if unknown_probe.any() else None,
        "open_set_known_accuracy": round(float(known_correct.mean()), 4) if len(known_correct) else None,
    }
