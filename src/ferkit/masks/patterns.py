"""Printed and dyed mask fabrics: random solid colours, stripes, plaid, dots, camouflage and prints, drawn over a
template's shading. Real masks in street photos are far more varied than the templates' own few colours; a mask
detector trained only on those calls patterned or skin-coloured masks "no mask"."""

from __future__ import annotations

import cv2
import numpy as np

#: Fabric kinds, drawn uniformly when a mask gets a pattern.
PATTERNS: tuple[str, ...] = ("solid", "stripes", "plaid", "dots", "camo", "print")


def _colours(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random BGR colours whose grey levels differ by at least 40 (a pattern that vanishes in grey is
    just a solid fabric)."""
    while True:
        c = rng.integers(0, 256, (n, 3)).astype(np.float32)
        grey = c @ np.array([0.114, 0.587, 0.299], np.float32)
        if n == 1 or np.ptp(grey) >= 40:
            return c


def _waves(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Square-ish stripes (0 or 1) at a random angle and period."""
    angle, period = rng.uniform(0, np.pi), rng.uniform(w / 20, w / 4)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = (xx * np.cos(angle) + yy * np.sin(angle)) / period
    return (np.sin(2 * np.pi * phase) > rng.uniform(-0.5, 0.5)).astype(np.float32)


def fabric(kind: str, h: int, w: int, seed: int) -> np.ndarray:
    """An (h, w, 3) float32 BGR fabric of ``kind`` (one of ``PATTERNS``), the same for the same seed."""
    rng = np.random.default_rng(seed)
    if kind == "solid":
        return np.broadcast_to(_colours(rng, 1)[0], (h, w, 3)).copy()
    c = _colours(rng, 3)
    if kind == "stripes":
        m = _waves(h, w, rng)
    elif kind == "plaid":
        m = np.clip(0.5 * _waves(h, w, rng) + 0.5 * _waves(h, w, rng), 0, 1)
    elif kind == "dots":
        m = np.zeros((h, w), np.float32)
        r = rng.uniform(w / 40, w / 12)
        for _ in range(int(rng.integers(8, 40))):
            cv2.circle(m, (int(rng.integers(w)), int(rng.integers(h))), int(r), 1.0, -1, cv2.LINE_AA)
    elif kind == "camo":
        noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), rng.uniform(w / 30, w / 10))
        lo, hi = np.quantile(noise, [1 / 3, 2 / 3])
        out = np.empty((h, w, 3), np.float32)
        out[:] = c[0]
        out[noise > lo] = c[1]
        out[noise > hi] = c[2]
        return out
    elif kind == "print":  # logos, letters, lines: large shapes of a second colour
        m = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(2, 7))):
            p = (int(rng.integers(w)), int(rng.integers(h)))
            shape = rng.integers(3)
            if shape == 0:
                text = "".join(chr(int(v)) for v in rng.integers(65, 91, int(rng.integers(1, 4))))
                cv2.putText(
                    m, text, p, int(rng.integers(8)), rng.uniform(0.8, 2.5), 1.0, int(rng.integers(2, 9)), cv2.LINE_AA
                )
            elif shape == 1:
                cv2.ellipse(
                    m,
                    p,
                    (int(rng.uniform(w / 15, w / 4)), int(rng.uniform(h / 15, h / 4))),
                    float(rng.uniform(0, 180)),
                    0,
                    360,
                    1.0,
                    -1 if rng.random() < 0.5 else 5,
                    cv2.LINE_AA,
                )
            else:
                q = (int(rng.integers(w)), int(rng.integers(h)))
                cv2.line(m, p, q, 1.0, int(rng.integers(3, 15)), cv2.LINE_AA)
    else:
        raise ValueError(f"unknown fabric {kind!r}; choose from {', '.join(PATTERNS)}")
    m = m[..., None]
    return c[0] * (1 - m) + c[1] * m
