"""``ferkit mask``: a masked copy of a face dataset, in FER2013's Kaggle layout, with a placement report."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ferkit.config import FER2013_SPLITS
from ferkit.data import FER2013
from ferkit.data.faceset import face_key
from ferkit.face.landmarks import DEFAULT_BOX, DETECTED
from ferkit.utils.io import write_image_atomic, write_json_atomic, write_text_atomic

from .synthesize import BOX, mask_face, rng_for
from .templates import load_templates

REPORT = "masking_report.json"
FLAGGED = "masking_flagged.csv"


def kaggle_path(key: str, split: str, label: str) -> str:
    """Where FER2013's Kaggle layout keeps a face: train/<class>/<key>.png or test/<class>/<key>.png."""
    return f"{'train' if split == 'Training' else 'test'}/{label}/{key}.png"


def masked_set_name(data: str | os.PathLike) -> str:
    """'FER2013', or 'masked FER2013 (ferkit mask, seed N)' for a copy written by ``mask_fer2013``."""
    report = Path(data) / REPORT
    if report.is_file():
        r = json.loads(report.read_text())
        fabrics = f", fabrics {r['patterns']:g}" if r.get("patterns") else ""
        return f"masked FER2013 (ferkit mask, seed {r['seed']}{fabrics})"
    return "FER2013"


def _mask_chunk(args) -> list[tuple[str, dict]]:
    """Mask one chunk of faces and write them; its placement records go to a progress file, so a killed run
    skips the chunks it finished."""
    images, keys, rels, out, seed, templates_path, kinds, patterns, progress = args
    if Path(progress).exists():
        return [tuple(r) for r in json.loads(Path(progress).read_text())]
    templates = load_templates(templates_path)
    rows = []
    for img, key, rel in zip(images, keys, rels):
        masked, pl = mask_face(
            img, (0.0, 0.0, float(img.shape[0])), rng_for(seed, key), templates, kinds, patterns=patterns
        )
        write_image_atomic(Path(out) / rel, masked)
        rows.append((rel, pl.to_dict()))
    write_json_atomic(progress, rows)
    return rows


def mask_fer2013(
    data: str | os.PathLike,
    out: str | os.PathLike,
    seed: int = 0,
    splits: tuple[str, ...] = FER2013_SPLITS,
    templates: str | None = None,
    kinds: tuple[str, ...] | None = None,
    workers: int = 1,
    chunk: int = 500,
    patterns: float = 0.0,
) -> dict:
    """Write a masked copy of FER2013 (any layout ferkit reads) to ``out`` in the Kaggle layout (PNG), with
    ``masking_report.json`` (counts by split, method, template, colour; command) and ``masking_flagged.csv``
    (every face whose mask was not placed from landmarks of a detected face). A killed run resumes from its
    finished chunks; the same seed gives the same masks. ``patterns``: chance of a random fabric per mask."""
    out = Path(out)
    t0 = time.time()
    placements: dict[str, dict] = {}
    by_split: dict[str, Counter] = {}
    progress = out / ".progress"
    for split in splits:
        ds = FER2013(data, split)
        keys = [face_key(n, split) for n in ds.names]
        rels = [kaggle_path(k, split, ds.classes[c]) for k, c in zip(keys, ds.labels)]
        jobs = [
            (
                ds.images[i : i + chunk],
                keys[i : i + chunk],
                rels[i : i + chunk],
                str(out),
                seed,
                templates,
                kinds,
                patterns,
                str(progress / f"{split}_{seed}_{i // chunk}.json"),
            )
            for i in range(0, len(keys), chunk)
        ]
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                results = list(pool.map(_mask_chunk, jobs))
        else:
            results = [_mask_chunk(j) for j in jobs]
        for rows in results:
            placements.update(rows)
        by_split[split] = Counter(placements[r]["method"] for r in rels)
    report = _report(placements, by_split, seed, data, time.time() - t0)
    report["patterns"] = patterns
    _write_flagged(out / FLAGGED, placements)
    write_json_atomic(out / REPORT, report)
    shutil.rmtree(progress, ignore_errors=True)
    return report


def _report(placements: dict[str, dict], by_split: dict[str, Counter], seed: int, data, seconds: float) -> dict:
    from ferkit.utils.reports import command_line

    methods = Counter(p["method"] for p in placements.values())
    return {
        "source": str(data),
        "seed": seed,
        "faces": len(placements),
        "seconds": round(seconds, 1),
        "command": command_line(),
        "methods": dict(methods),
        "flagged": sum(n for m, n in methods.items() if m != DETECTED),
        "by_split": {s: dict(c) for s, c in by_split.items()},
        "templates": dict(Counter(p["template"] for p in placements.values())),
        "colours": dict(Counter(p["colour"].split(":")[0] for p in placements.values())),  # fabrics by kind
        "method_meaning": {
            DETECTED: "dlib's HOG detector found the face; mask warped onto 6 of its 68 landmarks",
            DEFAULT_BOX: "no detection; landmarks predicted in the median dlib box of FER2013 faces (flagged)",
            BOX: "no plausible landmarks; mask placed at the mean face anchors of the frame (flagged)",
        },
    }


def _write_flagged(path: Path, placements: dict[str, dict]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["file", "method", "template", "colour"])
    for k in sorted(placements):
        p = placements[k]
        if p["method"] != DETECTED:
            w.writerow([k, p["method"], p["template"], p["colour"]])
    write_text_atomic(path, buf.getvalue())
