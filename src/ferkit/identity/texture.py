"""Local binary pattern histograms of a face (Ahonen, Hadid and Pietikainen, "Face recognition with local binary
patterns", ECCV 2004): the face box in grey, resized to ``size`` x ``size``; uniform LBP(8, 1) codes (58 uniform
patterns and one bin for the rest) counted in a ``grid`` x ``grid`` of cells; each cell's histogram normalised and
square-rooted, so that Euclidean distance between two faces is their Hellinger distance. LBP codes are unchanged
by any monotonic change of grey levels (lighting), and the descriptor needs no model."""

from __future__ import annotations

import numpy as np

N_BINS = 59
#: Neighbour offsets (dy, dx), clockwise from the top-left: bit i of a code is "neighbour i >= centre".
_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def _uniform_table() -> np.ndarray:
    """Code (0..255) -> bin: the 58 codes with at most two 0/1 transitions around the circle get their own bins,
    in increasing code order; every other code goes to bin 58."""
    table = np.full(256, N_BINS - 1, np.int64)
    uniform = [c for c in range(256) if sum(((c >> i) & 1) != ((c >> ((i + 1) % 8)) & 1) for i in range(8)) <= 2]
    table[uniform] = np.arange(len(uniform))
    return table


_TABLE = _uniform_table()


def lbp_codes(gray: np.ndarray) -> np.ndarray:
    """Uniform-LBP bins (H-2, W-2) of a grey image (H, W), or (N, H-2, W-2) of a batch (N, H, W)."""
    g = np.asarray(gray, np.float32)
    h, w = g.shape[-2:]
    centre = g[..., 1:-1, 1:-1]
    code = np.zeros(centre.shape, np.int64)
    for bit, (dy, dx) in enumerate(_OFFSETS):
        code |= (g[..., 1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] >= centre).astype(np.int64) << bit
    return _TABLE[code]


def lbp_histograms(gray: np.ndarray, grid: int) -> np.ndarray:
    """(N, grid * grid * 59) float32 descriptors of a batch of grey faces (N, H, W), as described above."""
    codes = lbp_codes(gray)
    n, h, w = codes.shape
    ys = np.searchsorted(np.arange(1, grid) * h // grid, np.arange(h), side="right")  # cell rows: floor(i*h/grid)..
    xs = np.searchsorted(np.arange(1, grid) * w // grid, np.arange(w), side="right")
    cell = ys[:, None] * grid + xs[None, :]  # the cell of every pixel
    index = (cell[None] * N_BINS + codes).reshape(n, -1) + np.arange(n)[:, None] * grid * grid * N_BINS
    hist = np.bincount(index.ravel(), minlength=n * grid * grid * N_BINS).reshape(n, grid * grid, N_BINS)
    hist = hist / np.maximum(hist.sum(-1, keepdims=True), 1)
    return np.sqrt(hist).reshape(n, -1).astype(np.float32)


def face_texture(image: np.ndarray, boxes: np.ndarray, size: int, grid: int) -> np.ndarray:
    """(N, grid * grid * 59) LBP descriptors of the faces in ``boxes`` ([x1, y1, x2, y2], clipped to the image)
    of a BGR or grey image."""
    import cv2

    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    crops = []
    for x1, y1, x2, y2 in np.asarray(boxes, np.float64).reshape(-1, 4).round().astype(int):
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(max(x2, x1 + 1), w), min(max(y2, y1 + 1), h)
        crop = gray[y1:y2, x1:x2] if x2 > x1 and y2 > y1 else np.zeros((1, 1), gray.dtype)
        crops.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))
    return lbp_histograms(np.stack(crops), grid) if crops else np.zeros((0, grid * grid * N_BINS), np.float32)
