"""``ferkit mask``: masked copies of FER2013 or of photos (paper 000's synthetic masked faces)."""

from __future__ import annotations

import json
from pathlib import Path


def add_mask(sub) -> None:
    p = sub.add_parser("mask", help="draw masks on faces: a masked copy of FER2013, or of photos")
    p.add_argument("source", nargs="?", help="an image or a folder of images (omit with --dataset)")
    p.add_argument("--dataset", choices=["fer2013"], help="mask a whole dataset (keeps its splits, Kaggle layout)")
    p.add_argument("--data", help="the dataset's path (Kaggle folder / zip or fer2013.csv)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same masks")
    p.add_argument("--templates", help="MaskTheFace masks folder or tar (default: the packaged templates)")
    p.add_argument(
        "--kinds", help="comma-separated mask types (default: surgical, blue/green surgical, N95, KN95, cloth)"
    )
    p.add_argument(
        "--patterns",
        type=float,
        default=0.0,
        help="chance that a mask gets a random fabric (solid, stripes, plaid, dots, camo, print) instead "
        "of a template colour (default 0)",
    )
    p.add_argument("--detector", default="default", help="photos: face detector")
    p.add_argument("--workers", type=int, default=1, help="dataset: processes")


def run_mask(a) -> int:
    from ferkit.errors import FerkitError

    kinds = tuple(a.kinds.split(",")) if a.kinds else None
    if a.dataset:
        if not a.data:
            raise FerkitError("--dataset needs --data")
        from ferkit.masks.dataset import mask_fer2013

        r = mask_fer2013(
            a.data, a.out, a.seed, templates=a.templates, kinds=kinds, workers=a.workers, patterns=a.patterns
        )
        print(json.dumps({k: r[k] for k in ("faces", "methods", "flagged", "seconds")}))
        return 0
    if not a.source:
        raise FerkitError("give an image or folder to mask, or --dataset with --data")
    from ferkit.app.jobs import image_files
    from ferkit.detection import create_detector
    from ferkit.masks.photo import mask_photo
    from ferkit.masks.templates import load_templates
    from ferkit.utils.io import read_image, write_image_atomic, write_json_atomic

    det, templates = create_detector(a.detector), load_templates(a.templates)
    out = Path(a.out)
    records = {}
    for path in image_files(a.source):
        masked, placements = mask_photo(read_image(path), det, a.seed, Path(path).name, templates, kinds, a.patterns)
        write_image_atomic(out / Path(path).name, masked)
        records[Path(path).name] = [p.to_dict() for p in placements]
        print(f"{path}: {len(placements)} face(s) masked")
    write_json_atomic(out / "masks.json", records)
    return 0
