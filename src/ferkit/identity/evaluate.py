"""Identification on a dataset with subject ids (CK+): enrol one image per subject, identify the others; and
open-set rejection: subjects never enrolled must come back ``unknown``."""
from __future__ import annotations

import time

import numpy as np

from .embedder import DlibEmbedder
from .gallery import DEFAULT_THRESHOLD, UNKNOWN, Gallery


def embed_crops(images: np.ndarray, embedder: DlibEmbedder | None = None) -> np.ndarray:
    """Embeddings of face crops (N, H, W) or (N, H, W, 3), each crop taken as the face box."""
    embedder = embedder or DlibEmbedder()
    out = []
    for img in images:
        h, w = img.shape[:2]
        out.append(embedder.embed(img, np.array([[0, 0, w, h]], np.float32)))
    return np.concatenate(out) if out else np.zeros((0, 128), np.float32)


def identification_report(images: np.ndarray, subjects: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
                          k: int = 1, embedder: DlibEmbedder | None = None,
                          sweep: tuple[float, ...] = (0.4, 0.45, 0.5, 0.55, 0.6)) -> dict:
    """Closed set: the first image (in dataset order) of every subject is enrolled, every other image is a probe
    (accuracy = probes given their own name). Open set: subjects are split in two by their sorted order (every
    other subject), the first half enrolled; probes of the second half that get a name are false accepts."""
    t = time.perf_counter()
    emb = embed_crops(images, embedder)
    seconds = time.perf_counter() - t
    rep = _protocols(emb, np.asarray(subjects), threshold, k)
    rep["operating_points"] = [{kk: v for kk, v in _protocols(emb, np.asarray(subjects), t_, k).items()
                                if kk in ("threshold", "identification_accuracy", "false_accept_rate")} for t_ in sweep]
    rep["ms_per_face"] = round(seconds / max(len(subjects), 1) * 1000, 2)
    return rep


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
    return {"embedder": DlibEmbedder.name, "threshold": threshold, "k": k, "n_images": int(len(subjects)),
            "n_subjects": len(first), "n_probes": int(len(probes)),
            "identification_accuracy": round(float(correct.mean()), 4) if len(correct) else None,
            "rejected_known": int(sum(n == UNKNOWN for n in names)),
            "open_set_enrolled_subjects": len(known), "open_set_unknown_probes": int(unknown_probe.sum()),
            "false_accept_rate": round(float(accepted[unknown_probe].mean()), 4) if unknown_probe.any() else None,
            "open_set_known_accuracy": round(float(known_correct.mean()), 4) if len(known_correct) else None}
