"""Draw a mask template onto a face: six face anchors from 68 landmarks (or, flagged, from the face box), a
homography from the template's anchors to them, alpha blending. Deterministic for a seed."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import cv2
import numpy as np

from ferkit.face.landmarks import DETECTED, LANDMARK_SIDE, Landmarks, landmarks68

from .patterns import PATTERNS, fabric
from .templates import MaskTemplate, load_templates, mean_anchors

#: dlib 68-point indices of the face anchors a..f: jaw beside the nose bridge (left), nose bridge, jaw (right),
#: jaw below the mouth (left), chin, jaw below the mouth (right). The top edge is drawn between a high fit
#: (just under the eyes, as masks are worn in the street photos of the face-mask set) and a low one (mid nose),
#: at a height drawn per face.
FACE_ANCHOR_POINTS = (1, 28, 15, 4, 8, 12)
FACE_ANCHOR_POINTS_LOW = (2, 29, 14, 4, 8, 12)
#: Yaw cue: nose tip position between the jaw points 1 and 15 below which (or above 1 - it) a side view is used.
SIDE_VIEW_BELOW = 0.35
#: Mask colours (BGR) besides each template's own; a tint keeps the template's shading.
MASK_COLOURS: dict[str, tuple[int, int, int]] = {
    "white": (235, 235, 235),
    "light_blue": (230, 200, 150),
    "black": (35, 35, 35),
    "grey": (140, 140, 140),
    "pink": (190, 160, 240),
    "navy": (90, 40, 20),
    "green": (120, 170, 110),
    "beige": (170, 200, 225),
}
#: Chance that a mask keeps its template's own colours.
ORIGINAL_COLOUR_P = 0.5
#: Mask types drawn by default (the gas respirator is left out: it is not what people wear in the street).
DEFAULT_KINDS = ("surgical", "surgical_blue", "surgical_green", "N95", "KN95", "cloth")
#: How a mask was placed: landmarks of a face dlib found; landmarks on the default box; mean anchors in the box.
BOX = "box"


@dataclass
class MaskPlacement:
    template: str
    colour: str
    method: str  # landmarks | landmarks_default_box | box (no plausible landmarks)
    anchors: np.ndarray  # (6, 2) face anchors, image coordinates
    coverage: np.ndarray | None = field(default=None, repr=False)  # mask alpha (H, W) float 0..1

    @property
    def flagged(self) -> bool:
        """True where the placement did not come from landmarks of a face that dlib's detector found."""
        return self.method != DETECTED

    def to_dict(self) -> dict:
        return {
            "template": self.template,
            "colour": self.colour,
            "method": self.method,
            "anchors": np.round(self.anchors, 1).tolist(),
        }


def rng_for(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on the seed and the face's key (so results do not depend on order)."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def anchors_from_landmarks(points: np.ndarray, height: float = 0.5) -> np.ndarray:
    """The six face anchors of 68 landmarks; ``height`` 0 puts the mask's top edge high, 1 low."""
    return (1 - height) * points[list(FACE_ANCHOR_POINTS)] + height * points[list(FACE_ANCHOR_POINTS_LOW)]


def face_anchors(
    lm: Landmarks | None, frame: tuple[float, float, float], height: float = 0.5
) -> tuple[np.ndarray, str]:
    """Six face anchors and how they were found."""
    if lm is not None and lm.plausible:
        return anchors_from_landmarks(lm.points, height), lm.method
    x0, y0, side = frame
    return mean_anchors() * side + np.array([x0, y0], np.float32), BOX


def choose(
    rng: np.random.Generator,
    templates: dict[str, MaskTemplate],
    anchors: np.ndarray,
    kinds: tuple[str, ...] | None = None,
    patterns: float = 0.0,
) -> tuple[MaskTemplate, str]:
    """Template (its kind drawn from ``kinds``, its view from the face's yaw) and colour name, drawn with ``rng``;
    with chance ``patterns`` the colour is a random fabric instead, named ``<fabric>:<seed>`` (no extra draw
    when ``patterns`` is 0, so masks drawn without fabrics do not change)."""
    have = sorted({t.kind for t in templates.values()})
    pool = [k for k in (kinds or DEFAULT_KINDS) if k in have] or have
    kind = pool[rng.integers(len(pool))]
    a, b, c = anchors[0, 0], anchors[1, 0], anchors[2, 0]
    r = (b - a) / max(c - a, 1e-6)
    view = "left" if r < SIDE_VIEW_BELOW else "right" if r > 1 - SIDE_VIEW_BELOW else "front"
    name = kind if view == "front" else f"{kind}_{view}"
    colour = "original" if rng.random() < ORIGINAL_COLOUR_P else sorted(MASK_COLOURS)[rng.integers(len(MASK_COLOURS))]
    if patterns > 0 and rng.random() < patterns:
        colour = f"{PATTERNS[rng.integers(len(PATTERNS))]}:{rng.integers(2**31)}"
    return templates.get(name, templates[kind] if kind in templates else next(iter(templates.values()))), colour


def tint(bgr: np.ndarray, colour: str) -> np.ndarray:
    """The template's shading (luminance relative to its median) times a colour, or times a fabric
    (``<fabric>:<seed>``, see ``patterns.fabric``)."""
    if colour == "original":
        return bgr
    lum = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    rel = lum / max(float(np.median(lum[lum > 0])) if (lum > 0).any() else 1.0, 1.0)
    if ":" in colour:
        kind, seed = colour.split(":")
        paint = fabric(kind, bgr.shape[0], bgr.shape[1], int(seed))
    else:
        paint = np.array(MASK_COLOURS[colour], np.float32)
    return np.clip(rel[..., None] * paint, 0, 255).astype(np.uint8)


def draw_mask(
    img: np.ndarray, anchors: np.ndarray, template: MaskTemplate, colour: str
) -> tuple[np.ndarray, np.ndarray]:
    """``img`` (grey or BGR) with the template warped onto ``anchors``; also the mask's alpha map (H, W)."""
    h, w = img.shape[:2]
    H, _ = cv2.findHomography(template.anchors, anchors.astype(np.float32), 0)
    if H is None:  # degenerate anchors: an affine fit always exists
        H = np.vstack([cv2.estimateAffine2D(template.anchors, anchors.astype(np.float32))[0], [0, 0, 1]])
    rgba = template.rgba.copy()
    rgba[..., :3] = tint(rgba[..., :3], colour)
    warped = cv2.warpPerspective(rgba, H, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3].astype(np.float32) / 255
    paint = warped[..., :3] if img.ndim == 3 else cv2.cvtColor(warped[..., :3], cv2.COLOR_BGR2GRAY)
    a = alpha[..., None] if img.ndim == 3 else alpha
    out = (img.astype(np.float32) * (1 - a) + paint.astype(np.float32) * a + 0.5).astype(np.uint8)
    return out, alpha


def mask_face(
    img: np.ndarray,
    frame: tuple[float, float, float],
    rng: np.random.Generator,
    templates: dict[str, MaskTemplate] | None = None,
    kinds: tuple[str, ...] | None = None,
    lm: Landmarks | None = None,
    patterns: float = 0.0,
) -> tuple[np.ndarray, MaskPlacement]:
    """Mask the face framed by ``frame`` (x0, y0, side) in ``img``; small faces are drawn at ``LANDMARK_SIDE``
    px and scaled back, so the mask's edges are anti-aliased. ``patterns``: chance of a random fabric."""
    templates = templates or load_templates()
    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    lm = lm if lm is not None else landmarks68(grey, frame)
    anchors, method = face_anchors(lm, frame, float(rng.random()))
    template, colour = choose(rng, templates, anchors, kinds, patterns)
    x0, y0, side = frame
    h, w = img.shape[:2]
    # region of interest: the frame with a margin, clipped to the image
    rx0, ry0 = max(0, int(x0 - 0.25 * side)), max(0, int(y0 - 0.25 * side))
    rx1, ry1 = min(w, int(np.ceil(x0 + 1.25 * side))), min(h, int(np.ceil(y0 + 1.25 * side)))
    roi = img[ry0:ry1, rx0:rx1]
    s = max(1.0, LANDMARK_SIDE / side)
    up = (
        cv2.resize(roi, (round(roi.shape[1] * s), round(roi.shape[0] * s)), interpolation=cv2.INTER_CUBIC)
        if s > 1
        else roi
    )
    drawn, alpha = draw_mask(up, (anchors - np.array([rx0, ry0], np.float32)) * s, template, colour)
    if s > 1:
        drawn = cv2.resize(drawn, (roi.shape[1], roi.shape[0]), interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, (roi.shape[1], roi.shape[0]), interpolation=cv2.INTER_AREA)
    out = img.copy()
    out[ry0:ry1, rx0:rx1] = drawn
    full = np.zeros((h, w), np.float32)
    full[ry0:ry1, rx0:rx1] = alpha
    return out, MaskPlacement(template.name, colour, method, anchors, full)
