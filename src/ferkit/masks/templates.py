"""Mask templates: RGBA pictures of masks with six anchor points each (MaskTheFace's ``masks.cfg`` format).

Anchors ``a``..``f`` are the mask's top-left, top-centre (nose bridge), top-right, bottom-left, bottom-centre
(chin) and bottom-right points. ferkit ships a downscaled copy of MaskTheFace's templates (MIT licence) in
``assets/masks`` (made by ``scripts/pack_mask_templates.py``); ``load_templates(path)`` reads a user's own copy
(the folder or tar holding ``masks/masks.cfg`` and ``masks/templates/*.png``) instead.
"""

from __future__ import annotations

import configparser
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ferkit.config import ASSETS_DIR
from ferkit.data.sources import FileSource
from ferkit.errors import DatasetLayoutError

MASKS_DIR = ASSETS_DIR / "masks"
ANCHORS = ("a", "b", "c", "d", "e", "f")


@dataclass(frozen=True)
class MaskTemplate:
    """One mask picture: ``rgba`` (H, W, 4) uint8, BGR + alpha; ``anchors`` (6, 2) float pixel coordinates;
    ``kind`` the mask type (surgical, N95...), ``view`` front | left | right."""

    name: str
    kind: str
    view: str
    rgba: np.ndarray
    anchors: np.ndarray


def _kind_view(name: str) -> tuple[str, str]:
    for view in ("left", "right"):
        if name.endswith("_" + view):
            return name[: -len(view) - 1], view
    return name, "front"


def _parse_cfg(text: str) -> dict[str, tuple[str, np.ndarray]]:
    cp = configparser.ConfigParser()
    cp.read_string(text)
    out = {}
    for sec in cp.sections():
        keys = [f"mask_{k}" for k in ANCHORS]
        if "template" not in cp[sec] or not all(k in cp[sec] for k in keys):
            continue  # [empty], [inpaint]: no picture
        pts = np.array([[float(v) for v in cp[sec][k].split(",")] for k in keys], np.float32)
        out[sec] = (cp[sec]["template"].strip(), pts)
    return out


def load_templates(path: str | os.PathLike | None = None) -> dict[str, MaskTemplate]:
    """Templates by name, from ferkit's packaged copy (``path=None``) or a MaskTheFace-style folder / tar."""
    if path is None:
        return dict(_packaged())
    source = FileSource(path)
    names = source.names()
    cfg = [n for n in names if n.endswith("masks.cfg")]
    if not cfg:
        raise DatasetLayoutError(f"{path}: no masks/masks.cfg (expected MaskTheFace's masks folder or its tar)")
    root = cfg[0][: -len("masks.cfg")]
    text = dict(source.read_many(cfg[:1]))[cfg[0]].decode()
    entries = _parse_cfg(text)
    # masks.cfg names files as masks/templates/X.png, relative to the folder holding masks/
    base = root[: -len("masks/")] if root.endswith("masks/") else root
    wanted = {base + rel: sec for sec, (rel, _) in entries.items()}
    found = {n: b for n, b in source.read_many([n for n in names if n in wanted])}
    out = {}
    for fname, sec in wanted.items():
        if fname not in found:
            continue
        img = cv2.imdecode(np.frombuffer(found[fname], np.uint8), cv2.IMREAD_UNCHANGED)
        if img is None or img.ndim != 3 or img.shape[2] != 4:
            raise DatasetLayoutError(f"{path}:{fname}: not an RGBA PNG")
        kind, view = _kind_view(sec)
        out[sec] = MaskTemplate(sec, kind, view, img, entries[sec][1])
    if not out:
        raise DatasetLayoutError(f"{path}: masks.cfg names no template picture that the archive holds")
    return out


@lru_cache(maxsize=1)
def _packaged_meta() -> dict:
    return json.loads((MASKS_DIR / "masks.json").read_text())


@lru_cache(maxsize=1)
def _packaged() -> tuple[tuple[str, MaskTemplate], ...]:
    out = []
    for name, anchors in _packaged_meta()["templates"].items():
        rgba = cv2.imread(str(MASKS_DIR / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        kind, view = _kind_view(name)
        out.append((name, MaskTemplate(name, kind, view, rgba, np.array(anchors, np.float32))))
    return tuple(out)


def mean_anchors() -> np.ndarray:
    """Mean face anchors (6, 2) relative to a FER2013-framed face (side 1), for placement without landmarks."""
    return np.array(_packaged_meta()["mean_face_anchors"], np.float32)


def save_packaged(
    templates: dict[str, MaskTemplate], mean_face_anchors: np.ndarray, width: int, out: Path = MASKS_DIR
) -> None:
    """Write downscaled templates and ``masks.json`` (anchors, mean face anchors) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "source": "MaskTheFace (aqeelanwar/MaskTheFace, MIT licence): masks/templates and masks/masks.cfg",
        "width": width,
        "templates": {},
        "mean_face_anchors": np.round(mean_face_anchors, 4).tolist(),
    }
    for name, t in sorted(templates.items()):
        s = width / t.rgba.shape[1]
        small = cv2.resize(t.rgba, (width, max(1, round(t.rgba.shape[0] * s))), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out / f"{name}.png"), small, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        meta["templates"][name] = np.round(t.anchors * s, 2).tolist()
    (out / "masks.json").write_text(json.dumps(meta, indent=1) + "\n")
