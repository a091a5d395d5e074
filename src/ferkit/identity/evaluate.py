"""Identification on a dataset with subject ids (CK+): enrol one image per subject, identify the others; and
open-set rejection: subjects never enrolled must come back ``unknown``."""
from __future__ import annotations

import time

import numpy as np

from ..config import IDENTITY_TARGET, IDENTITY_THRESHOLD_GRID
from .embedder import EMBEDDING_DIM, DlibEmbedder
from .gallery import DEFAULT_THRESHOLD, UNKNOWN, Gallery


def embed_crops(images: np.ndarray, embedder: DlibEmbedder | None = None, views: bool = False) -> np.ndarray:
    """Embeddings of face crops (N, H, W) or (N, H, W, 3), each crop taken as the face box: (N, 128), or with
    ``views`` (V, N, 128), one row per view (``DlibEmbedder.embed_views``)."""
    embedder = embedder or DlibEmbedder()
    out = [embedder.embed_views(img, np.array([[0, 0, img.shape[1], img.shape[0]]], np.float32)) for img in images]
    emb = np.concatenate(out, axis=1) if out else np.zeros((embedder.n_views, 0, EMBEDDING_DIM), np.float32)
    return emb if views else emb.mean(0)


def identification_report(images: np.ndarray, subjects: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
                          k: int = 1, embedder: DlibEmbedder | None = None,
                          sweep: tuple[float, ...] = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65)) -> dict:
    """Closed set: the first image (in dataset order) of every subject is enrolled, every other image is a probe
    (accuracy = probes given their own name). Open set: subjects are split in two by their sorted order (every
    other subject), the first half enrolled; probes of the second half that get a name are false accepts.
    ``heldout`` checks a threshold chosen without the test subjects (``heldout_threshold``)."""
    embedder = embedder or DlibEmbedder()
    subjects = np.asarray(subjects)
    t = time.perf_counter()
    views = embed_crops(images, embedder, views=True)
    seconds = time.perf_counter() - t
    emb = views.mean(0)
    rep = {"embedder": embedder.description, **_protocols(emb, subjects, threshold, k)}
    keys = ("threshold", "identification_accuracy", "false_accept_rate")

    def operating_points(e: np.ndarray) -> list[dict]:
        return [{kk: v for kk, v in _protocols(e, subjects, t_, k).items() if kk in keys} for t_ in sweep]

    rep["operating_points"] = operating_points(emb)
    if len(views) > 1:  # the same sweep with the first view alone (plain dlib embeddings), for comparison
        rep["operating_points_unmirrored"] = operating_points(views[0])
    rep["heldout"] = heldout_threshold(emb, subjects, k)
    rep["ms_per_face"] = round(seconds / max(len(subjects), 1) * 1000, 2)
    return rep


def heldout_threshold(emb: np.ndarray, subjects: np.ndarray, k: int = 1, target: float = IDENTITY_TARGET,
                      grid: tuple[float, ...] = IDENTITY_THRESHOLD_GRID) -> dict:
    """A threshold chosen without the subjects it is scored on: the subjects are split in two halves (every other
    one in sorted order); on each half, the smallest ``grid`` threshold whose closed-set accuracy reaches ``target``
    is applied to the other half, scored with the same closed and open sets (within that half)."""
    subs = np.unique(subjects)
    folds = []
    for pick, test in ((subs[0::2], subs[1::2]), (subs[1::2], subs[0::2])):
        mp, mt = np.isin(subjects, pick), np.isin(subjects, test)
        chosen = next((t for t in grid if _protocols(emb[mp], subjects[mp], t, k)["identification_accuracy"] >= target),
                      grid[-1])
        r = _protocols(emb[mt], subjects[mt], chosen, k)
        folds.append({kk: r[kk] for kk in ("threshold", "identification_accuracy", "false_accept_rate", "n_subjects",
                                           "n_probes", "open_set_enrolled_subjects", "open_set_unknown_probes")})
    mean = {kk: round(float(np.mean([f[kk] for f in folds])), 4) for kk in ("identification_accuracy", "false_accept_rate")}
    return {"target": target, "folds": folds, **mean}


def _protocols(emb: np.ndarray, subjects: np.ndarray, threshold: float, k: int) -> dict:
    first = {s: int(np.flatnonzero(subjects == s)[0]) for s in np.unique(subjects)}
    enrolled = np.zeros(len(subjects), bool)
    enrolled[list(first.values())] = True

    def run(gallery_subjects: set[str]) -> tuple[list[str], np.ndarray]:
        g = Gallery(threshold=threshold, k=k)
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
    return {"threshold": threshold, "k": k, "n_images": int(len(subjects)),
            "n_subjects": len(first), "n_probes": int(len(probes)),
            "identification_accuracy": round(float(correct.mean()), 4) if len(correct) else None,
            "rejected_known": int(sum(n == UNKNOWN for n in names)),
            "open_set_enrolled_subjects": len(known), "open_set_unknown_probes": int(unknown_probe.sum()),
            "false_accept_rate": round(float(accepted[unknown_probe].mean()), 4) if unknown_probe.any() else None,
            "open_set_known_accuracy": round(float(known_correct.mean()), 4) if len(known_correct) else None}
