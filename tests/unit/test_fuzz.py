"""Fuzz: a few hundred generated bad or odd files and option values through ``ferkit analyze``. For every one: no
traceback, no hang; the bad ones exit non-zero with one line naming the file or option and leave nothing behind;
the odd-but-valid ones succeed."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.cli.main import main
from tests.conftest import EXAMPLES

SECONDS_PER_CASE = 60


def _valid_files(rng: np.random.Generator) -> dict[str, bytes]:
    """Odd but valid images: tiny, strips, 16-bit, RGBA, grey, WebP, TIFF, BMP, a JPEG named .png, unicode names."""
    photo = cv2.imread(str(EXAMPLES / "Solvay_conference_1927.jpg"))
    face = photo[60:200, 100:260]

    def enc(ext: str, img: np.ndarray, *params: int) -> bytes:
        ok, buf = cv2.imencode(ext, img, list(params))
        assert ok
        return buf.tobytes()

    files = {
        f"tiny_{h}x{w}.png": enc(".png", rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        for h, w in ((1, 1), (2, 2), (8, 8), (1, 500), (500, 1), (3, 2000))
    }
    files.update(
        {
            "sixteen_bit.png": enc(".png", face.astype(np.uint16) * 257),
            "rgba.png": enc(".png", cv2.cvtColor(face, cv2.COLOR_BGR2BGRA)),
            "grey.png": enc(".png", cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)),
            "photo.webp": enc(".webp", face),
            "photo.tiff": enc(".tiff", face),
            "photo.bmp": enc(".bmp", face),
            "jpeg_named.png": enc(".jpg", face),
            "png_named.jpg": enc(".png", face),
            "visage_été.jpg": enc(".jpg", face),
            "写真 スペース.jpg": enc(".jpg", face),
            "constant.jpg": enc(".jpg", np.full((64, 64, 3), 127, np.uint8)),
            "low_quality.jpg": enc(".jpg", face, cv2.IMWRITE_JPEG_QUALITY, 2),
        }
    )
    return files


def _png(w: int, h: int) -> bytes:
    import struct
    import zlib

    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _bad_files(rng: np.random.Generator) -> dict[str, bytes]:
    """Files no image reader can use: truncated, bit-flipped headers, random bytes, empty, text, huge headers."""
    jpg = (EXAMPLES / "Solvay_conference_1927.jpg").read_bytes()
    ok, png = cv2.imencode(".png", cv2.imread(str(EXAMPLES / "Solvay_conference_1927.jpg"))[:100, :100])
    png = png.tobytes()
    video = (EXAMPLES / "tears_of_steel_clip_640x360_10s.mp4").read_bytes()
    files: dict[str, bytes] = {}
    for i, frac in enumerate(np.linspace(0.0005, 0.95, 40)):
        files[f"cut_{i}.jpg"] = jpg[: max(1, int(len(jpg) * frac))]
        files[f"cut_{i}.png"] = png[: max(1, int(len(png) * frac))]
    for i in range(30):  # a signature bit flipped: no longer a JPEG / PNG
        data = bytearray(jpg if i % 2 else png)
        data[rng.integers(0, 2 if i % 2 else 4)] ^= 1 << int(rng.integers(0, 8))
        files[f"flipped_{i}.{'jpg' if i % 2 else 'png'}"] = bytes(data)
    for i in range(15):
        files[f"random_{i}.{('jpg', 'png', 'webp')[i % 3]}"] = rng.integers(
            0, 256, int(rng.integers(1, 5000)), dtype=np.uint8
        ).tobytes()
    files.update(
        {
            "empty.jpg": b"",
            "empty.png": b"",
            "text.jpg": b"hello, not an image\n" * 10,
            "bomb.png": _png(40000, 40000),
            "bomb_strip.png": _png(200_000_000, 1),
            "video_cut.mp4": video[:2000],
            "video_empty.mp4": b"",
            "video_random.mp4": rng.integers(0, 256, 20000, dtype=np.uint8).tobytes(),
        }
    )
    return files


BAD_VALUES = {
    "--every": ["0", "-1", "-5", "1.5", "x", "nan", ""],
    "--detect-every": ["0", "-3", "inf", "2.0"],
    "--max-frames": ["0", "-1", "1e3", "NaN"],
    "--smooth": ["1", "1.5", "-0.01", "nan", "inf", "-inf", "x"],
    "--tta": ["11", "-1", "100", "2.5", "ten"],
    "--threads": ["-1", "-100", "1.5", "y"],
    "--prefetch": ["-1", "-8", "z"],
    "--max-pixels": ["0", "-1", "1.5"],
    "--precision": ["fp16", "INT8", ""],
    "--masked": ["yes", "", "ON"],
    "--model": ["nope", "x.onnx", "../etc/passwd"],
    "--detector": ["nope", "x.onnx", ""],
    "--gallery": ["missing.npz", ""],
    "--serve": ["-1", "70000", "p"],
}


def _damaged_files(rng: np.random.Generator) -> dict[str, bytes]:
    """Bits flipped inside the image data: a reader may decode them (with damage) or refuse them; either is fine."""
    jpg = (EXAMPLES / "Solvay_conference_1927.jpg").read_bytes()
    files = {}
    for i in range(40):
        data = bytearray(jpg)
        for k in rng.integers(20, len(jpg) - 2, int(rng.integers(1, 50))):
            data[k] ^= 1 << int(rng.integers(0, 8))
        files[f"damaged_{i}.jpg"] = bytes(data)
    return files


def _run(argv: list[str], capsys) -> tuple[int, str]:
    """``ferkit ARGV`` in this process (models stay loaded between cases), with a hang guard."""

    def hang(*_):
        raise TimeoutError(f"ferkit {' '.join(argv)} ran over {SECONDS_PER_CASE} s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(SECONDS_PER_CASE)
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    err = capsys.readouterr().err
    return code, err


@pytest.fixture(scope="module")
def fuzz_files(tmp_path_factory):
    rng = np.random.default_rng(2026)
    root = tmp_path_factory.mktemp("fuzz")
    valid, bad, damaged = _valid_files(rng), _bad_files(rng), _damaged_files(rng)
    for name, data in {**valid, **bad, **damaged}.items():
        (root / name).write_bytes(data)
    return root, sorted(valid), sorted(bad), sorted(damaged)


def test_fuzz_files_one_by_one(fuzz_files, tmp_path, capsys):
    root, valid, bad, damaged = fuzz_files
    assert len(valid) + len(bad) + len(damaged) >= 190
    for name in bad:
        out = tmp_path / f"out_{name}"
        code, err = _run(["analyze", str(root / name), "--out", str(out)], capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and name in lines[0] and "Traceback" not in err, (name, err)
        assert not out.exists(), name
    for name in valid:
        out = tmp_path / f"out_{name}"
        code, err = _run(["analyze", str(root / name), "--out", str(out)], capsys)
        assert code == 0 and "Traceback" not in err, (name, err)
        recs = json.loads((out / "results.json").read_text())
        assert recs and all(r["source"] == str(root / name) for r in recs), name
    for name in damaged:
        out = tmp_path / f"out_{name}"
        code, err = _run(["analyze", str(root / name), "--out", str(out)], capsys)
        assert "Traceback" not in err and code in (0, 2), (name, err)
        if code == 2:
            assert len(err.strip().splitlines()) == 1 and name in err and not out.exists(), (name, err)
        else:
            assert (out / "results.json").is_file(), name


def test_fuzz_folder_keeps_going(fuzz_files, tmp_path, capsys):
    """All the files in one folder: every valid image analysed, every bad image listed with its reason, exit 1."""
    root, valid, bad, damaged = fuzz_files
    out = tmp_path / "out"
    code, err = _run(["analyze", str(root), "--out", str(out), "--no-annotate"], capsys)
    assert code == 1 and "Traceback" not in err
    bad_images = [n for n in bad if not n.endswith(".mp4")]
    for name in bad_images:
        assert sum(name in line for line in err.splitlines()) >= 1, name
    recs = json.loads((out / "results.json").read_text())
    analysed = {Path(r["source"]).name for r in recs}
    assert set(valid) <= analysed and not analysed & set(bad) and analysed <= set(valid) | set(damaged)


def test_fuzz_option_values(tmp_path, capsys):
    """Every bad value of every option: exit 2, one line naming the option, nothing written."""
    photo = str(EXAMPLES / "Solvay_conference_1927.jpg")
    cases = [(opt, v) for opt, values in BAD_VALUES.items() for v in values]
    assert len(cases) >= 50
    for opt, value in cases:
        out = tmp_path / "o"
        code, err = _run(["analyze", photo, "--out", str(out), opt, value], capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and opt in lines[0] and "Traceback" not in err, (opt, value, err)
        assert not out.exists(), (opt, value)
