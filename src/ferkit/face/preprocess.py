"""Turning detections into the grey 48x48 crops expression models take."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ferkit.config import CROP_SCALE, CROP_SHIFT, FACE_SIZE, FACE_TEMPLATE, TEMPLATE_MIN_FACE, TEMPLATE_ZOOM
from ferkit.face.detection import Detection
from ferkit.utils.io import read_json


@dataclass(frozen=True)
class Framing:
    """How a detector's box maps to FER2013's framing of a face: the crop side is ``scale`` x the box's longer
    side, and its centre lies ``shift`` crop sides below the box centre (negative: above) along the face's upright
    axis. ``template`` > 0: a face with 5 landmarks (eyes, nose tip, mouth corners) is instead mapped by the
    similarity transform that best puts its landmarks on FER2013's (config ``FACE_TEMPLATE``), zoomed in by this
    factor, where the box's longer side is at least ``template_min_face`` px (smaller faces' landmarks are too coarse:
    they keep the box framing, as faces without landmarks do). ``Framing.of(name)``: the measured box framing of a
    detector (config ``CROP_SCALE``, ``CROP_SHIFT``); with ``template=True``, plus config ``TEMPLATE_ZOOM`` and
    ``TEMPLATE_MIN_FACE``."""

    scale: float = 1.0
    shift: float = 0.0
    template: float = 0.0
    template_min_face: float = 0.0

    @classmethod
    def of(cls, detector: str, template: bool = False) -> "Framing":
        zoom, least = (TEMPLATE_ZOOM, TEMPLATE_MIN_FACE) if template else (0.0, 0.0)
        if detector.endswith(".onnx"):  # a user's fine-tuned YuNet: the framing its card states, else the box as is
            card = read_json(Path(detector).with_name("card.json"))
            return cls(float(card.get("crop_scale", 1.0)), float(card.get("crop_shift", 0.0)), zoom, least)
        return cls(CROP_SCALE.get(detector, 1.0), CROP_SHIFT.get(detector, 0.0), zoom, least)


def crop_faces(
    image: np.ndarray,
    detections: list[Detection],
    framing: Framing | float = 1.0,
    size: int = FACE_SIZE,
    align: bool = True,
    colour: bool = False,
) -> np.ndarray:
    """(N, size, size) uint8 grey crops, one per detection, framed by ``framing`` (a ``Framing``, or a bare scale),
    rotated upright from the eye landmarks when the detector gives them; with ``colour``, (N, size, size, 3) BGR
    crops (a grey image's replicated)."""
    fr = framing if isinstance(framing, Framing) else Framing(float(framing))
    if colour:
        src = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    else:
        src = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    out = np.empty((len(detections), size, size) + src.shape[2:], np.uint8)
    for i, d in enumerate(detections):
        if (
            fr.template
            and d.landmarks is not None
            and len(d.landmarks) == len(FACE_TEMPLATE)
            and max(d.box[2] - d.box[0], d.box[3] - d.box[1]) >= fr.template_min_face
        ):
            m = similarity_transform(np.asarray(d.landmarks, np.float64), template_points(size, fr.template))
            shrink = math.sqrt(abs(np.linalg.det(m[:, :2])))
            out[i] = cv2.warpAffine(
                src,
                m,
                (size, size),
                flags=cv2.INTER_AREA if shrink < 1 else cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            continue
        x1, y1, x2, y2 = (float(v) for v in d.box)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        side = max(x2 - x1, y2 - y1, 1.0) * fr.scale
        angle = 0.0
        if align and d.landmarks is not None and len(d.landmarks) >= 2:
            (lx, ly), (rx, ry) = d.landmarks[0], d.landmarks[1]
            angle = math.degrees(math.atan2(ry - ly, rx - lx))
        if fr.shift:  # along the face's downward axis, perpendicular to the eye line
            t = math.radians(angle)
            cx, cy = cx - math.sin(t) * fr.shift * side, cy + math.cos(t) * fr.shift * side
        m = cv2.getRotationMatrix2D((cx, cy), angle, size / side)
        m[:, 2] += (size / 2 - cx, size / 2 - cy)
        out[i] = cv2.warpAffine(
            src,
            m,
            (size, size),
            flags=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    return out


def template_points(size: int = FACE_SIZE, zoom: float = 1.0) -> np.ndarray:
    """FER2013's median landmark positions (config ``FACE_TEMPLATE``, in 48 px) in a ``size`` px crop, zoomed in
    about the crop's centre by ``zoom``."""
    t = np.asarray(FACE_TEMPLATE, np.float64)
    return ((t - FACE_SIZE / 2) * zoom + FACE_SIZE / 2) * size / FACE_SIZE


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 rotation + uniform scale + shift taking points ``src`` closest to ``dst`` (least squares, Umeyama)."""
    ms, md = src.mean(0), dst.mean(0)
    s0, d0 = src - ms, dst - md
    u, sv, vt = np.linalg.svd(d0.T @ s0 / len(src))
    flip = np.diag([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    rot = u @ flip @ vt
    scale = float((sv * np.diag(flip)).sum() / max(s0.var(0).sum(), 1e-12))
    return np.hstack([scale * rot, (md - scale * rot @ ms)[:, None]])


def as_nchw(faces: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """Model input (N, C, S, S) from (N, S, S) grey or (N, S, S, 3) colour crops."""
    return np.ascontiguousarray(faces[:, None] if faces.ndim == 3 else faces.transpose(0, 3, 1, 2), dtype)
