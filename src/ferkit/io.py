"""Reading images safely and writing outputs atomically."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from .errors import BadInputError

# Bytes at the end of complete JPEG / PNG files; a file missing them was cut off.
_JPEG_END = b"\xff\xd9"
_PNG_END = b"IEND\xaeB`\x82"


def decode_image(data: bytes, name: str = "<bytes>", grey: bool = False) -> np.ndarray:
    """Decode image bytes to a BGR (or grey) uint8 array; raise BadInputError if not a whole image."""
    if not data:
        raise BadInputError(f"{name}: empty file")
    head = data[:8]
    if head.startswith(b"\xff\xd8") and _JPEG_END not in data[-64:]:
        raise BadInputError(f"{name}: truncated JPEG image (no end marker)")
    if head.startswith(b"\x89PNG") and _PNG_END not in data[-32:]:
        raise BadInputError(f"{name}: truncated PNG image (no IEND chunk)")
    flag = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if img is None:
        raise BadInputError(f"{name}: not a readable image")
    return img


def read_image(path: str | os.PathLike, grey: bool = False) -> np.ndarray:
    """Read an image file as BGR (or grey) uint8, with a clear error for missing/corrupt files."""
    p = Path(path)
    if not p.exists():
        raise BadInputError(f"{p}: no such file")
    if p.is_dir():
        raise BadInputError(f"{p}: is a folder, not an image")
    return decode_image(p.read_bytes(), str(p), grey=grey)


@contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` only if the block succeeds."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(dest: str | os.PathLike, text: str) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_json(path: str | os.PathLike, default: Any = None) -> Any:
    """A JSON file's content, or ``default`` ({} unless given) where the file does not exist."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else ({} if default is None else default)


def write_json_atomic(dest: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(dest, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_image_atomic(dest: str | os.PathLike, img: np.ndarray) -> None:
    dest = Path(dest)
    ok, buf = cv2.imencode(dest.suffix or ".png", img)
    if not ok:
        raise BadInputError(f"{dest}: could not encode image")
    with atomic_path(dest) as tmp:
        tmp.write_bytes(buf.tobytes())
