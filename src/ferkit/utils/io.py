"""Reading images safely and writing outputs atomically."""

from __future__ import annotations

import io
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from ferkit.config import MAX_IMAGE_PIXELS
from ferkit.errors import BadInputError

# Bytes at the end of complete JPEG / PNG files; a file missing them was cut off.
_JPEG_END = b"\xff\xd9"
_PNG_END = b"IEND\xaeB`\x82"
#: Permission bits of written files: what the process's umask leaves of rw-rw-rw-, as open() would give.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def image_pixels(data: bytes) -> int | None:
    """The pixel count an image file's header claims (read without decoding it); None where it cannot be read."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's own bomb warning: the caller applies its limit
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(io.BytesIO(data)) as im:
                return im.size[0] * im.size[1]
        except Exception:  # noqa: BLE001 - any unreadable header: OpenCV decides below
            return None
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def decode_image(
    data: bytes, name: str = "<bytes>", grey: bool = False, max_pixels: int = MAX_IMAGE_PIXELS
) -> np.ndarray:
    """Decode image bytes to a BGR (or grey) uint8 array; raise BadInputError if not a whole image or larger than
    ``max_pixels`` (checked on the header, before decoding)."""
    if not data:
        raise BadInputError(f"{name}: empty file")
    pixels = image_pixels(data)
    if pixels is not None and pixels > max_pixels:
        raise BadInputError(
            f"{name}: image of {pixels:,} pixels, over the limit of {max_pixels:,} "
            "(--max-pixels; a decompression bomb?)"
        )
    head = data[:8]
    if head.startswith(b"\xff\xd8") and _JPEG_END not in data[-64:]:
        raise BadInputError(f"{name}: truncated JPEG image (no end marker)")
    if head.startswith(b"\x89PNG") and _PNG_END not in data[-32:]:
        raise BadInputError(f"{name}: truncated PNG image (no IEND chunk)")
    flag = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error as e:  # e.g. a header over OpenCV's own pixel limit
        raise BadInputError(f"{name}: not a readable image ({str(e).strip().splitlines()[-1][:120]})") from None
    if img is None or img.size == 0:
        raise BadInputError(f"{name}: not a readable image")
    if img.shape[0] * img.shape[1] > max_pixels:
        raise BadInputError(
            f"{name}: image of {img.shape[0] * img.shape[1]:,} pixels, over the limit of {max_pixels:,} (--max-pixels)"
        )
    return img


def read_image(path: str | os.PathLike, grey: bool = False, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Read an image file as BGR (or grey) uint8, with a clear error for missing/corrupt files."""
    p = Path(path)
    if not p.exists():
        raise BadInputError(f"{p}: no such file")
    if p.is_dir():
        raise BadInputError(f"{p}: is a folder, not an image")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise BadInputError(f"{p}: cannot be read ({e.strerror})") from None
    return decode_image(data, str(p), grey=grey, max_pixels=max_pixels)


def video_frame_count(path: str | os.PathLike) -> int:
    """The frame count a video file's header states (0 when it states none); -1 when OpenCV cannot open it."""
    cap = cv2.VideoCapture(str(path))
    try:
        return max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0) if cap.isOpened() else -1
    finally:
        cap.release()


def as_image(array: np.ndarray, name: str = "array") -> np.ndarray:
    """An image array as analysis takes it: BGR (or grey) uint8. Grey HxW or HxWx1, BGR HxWx3 and BGRA HxWx4
    (alpha dropped) are taken; 16-bit is scaled to 8-bit, floats in 0..1 to 0..255 (floats above 1: taken as
    0..255), booleans to 0/255. Anything else (no pixels, other shapes, NaN) is a BadInputError."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise BadInputError(f"{name}: expected an HxW, HxWx3 (BGR) or HxWx4 (BGRA) image, got shape {a.shape}")
    if a.size == 0:
        raise BadInputError(f"{name}: empty image (shape {a.shape})")
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype == np.uint16:
        a = (a // 257).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise BadInputError(f"{name}: image holds NaN or infinite values")
        a = np.clip(a * 255 if a.max() <= 1.0 else a, 0, 255).round().astype(np.uint8)
    elif a.dtype != np.uint8:
        if not np.issubdtype(a.dtype, np.integer):
            raise BadInputError(f"{name}: unsupported pixel type {a.dtype}")
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 4:
        a = cv2.cvtColor(a, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(a)


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
        os.chmod(tmp_path, FILE_MODE)  # mkstemp makes 0600: give the file the mode open() would
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


def copy_atomic(src: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Copy a file so that ``dest`` is either the old file or the whole new one."""
    import shutil

    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
