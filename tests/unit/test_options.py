"""No silent wrong answers: every option checked before work starts, outputs never clobbered or fed back, every bad
input a one-line error with nothing left behind."""

from __future__ import annotations

import json
import os
import stat
import struct
import zlib

import cv2
import numpy as np
import pytest

from ferkit.app.analyzer import Analyzer
from ferkit.app.settings import AnalyzeSettings
from ferkit.errors import BadInputError, BadOptionError
from tests.conftest import CLIP, REPO, SOLVAY, run_cli

BAD_OPTIONS = [
    (("--smooth", "2"), "--smooth"),
    (("--smooth", "-0.1"), "--smooth"),
    (("--smooth", "nan"), "--smooth"),
    (("--every", "-1"), "--every"),
    (("--every", "0"), "--every"),
    (("--every", "x"), "--every"),
    (("--tta", "11"), "--tta"),
    (("--tta", "-1"), "--tta"),
    (("--detect-every", "0"), "--detect-every"),
    (("--threads", "-1"), "--threads"),
    (("--prefetch", "-1"), "--prefetch"),
    (("--max-frames", "0"), "--max-frames"),
    (("--max-pixels", "0"), "--max-pixels"),
    (("--precision", "fp16"), "--precision"),
    (("--masked", "maybe"), "--masked"),
    (("--model", "nope"), "--model"),
    (("--detector", "nope"), "--detector"),
    (("--gallery", "nope.npz"), "--gallery"),
    (("--masked", "on", "--masked-model", "nope"), "--masked-model"),
    (("--serve", "70000"), "--serve"),
]


def _one_line_error(p, *names: str) -> None:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ferkit") and "error" in lines[0], p.stderr
    assert "Traceback" not in p.stderr
    for n in names:
        assert n in lines[0], (n, lines[0])


@pytest.mark.parametrize("args,option", BAD_OPTIONS)
def test_bad_option_is_one_line_before_any_model_loads(args, option, tmp_path, capsys):
    """Each bad value: exit 2, one line naming the option, no ONNX session asked for (no model loaded: ort_session's
    cache saw no call), nothing written."""
    from ferkit.cli.main import main
    from ferkit.utils.onnx import ort_session

    before = ort_session.cache_info()[:2]
    try:
        code = main(["analyze", str(SOLVAY), "--out", str(tmp_path / "o"), *args])
    except SystemExit as e:  # argparse's own type errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and option in err and "Traceback" not in err, err
    assert ort_session.cache_info()[:2] == before
    assert not (tmp_path / "o").exists()


def test_settings_rules_in_the_python_api():
    with pytest.raises(BadOptionError, match="--every"):
        AnalyzeSettings(every=0).validate()
    with pytest.raises(BadOptionError, match="--tta"):
        AnalyzeSettings().replace(tta=11)
    with pytest.raises(BadOptionError, match="unknown setting"):
        AnalyzeSettings().replace(evry=2)
    assert AnalyzeSettings().replace(tta=2, smooth=0.5).tta == 2


def test_valid_edge_values_work(tmp_path):
    """--tta 0 and 1 mean off, --threads 0 all cores, --smooth 0 off: accepted, same faces."""
    p = run_cli(
        "analyze", SOLVAY, "--out", tmp_path / "o", "--tta", "0", "--threads", "0", "--prefetch", "0", check=True
    )
    assert "29 faces" in p.stdout
    p = run_cli("analyze", SOLVAY, "--out", tmp_path / "o1", "--tta", "1", check=True)
    assert "29 faces" in p.stdout


def test_video_options_are_honoured(tmp_path):
    """--every 2 --max-frames 40: frames 0, 2, .., 38 analysed; smoothed probabilities stay probabilities."""
    out = tmp_path / "o"
    run_cli("analyze", CLIP, "--out", out, "--every", "2", "--max-frames", "40", "--smooth", "0.6", check=True)
    recs = json.loads((out / "results.json").read_text())
    assert {r["frame"] for r in recs} <= set(range(0, 40, 2))
    for r in recs:
        sp = r["smoothed_probabilities"]
        assert all(0 <= v <= 1 for v in sp.values()) and abs(sum(sp.values()) - 1) < 1e-3
    summary = json.loads((out / "tears_of_steel_clip_640x360_10s_summary.json").read_text())
    assert summary["every"] == 2 and summary["frames"] == 20


def test_webcam_is_alone_and_missing_sources_are_named(tmp_path):
    _one_line_error(run_cli("analyze", "0", SOLVAY, "--out", tmp_path / "o"), "webcam")
    _one_line_error(run_cli("analyze", SOLVAY, tmp_path / "nope.jpg", "--out", tmp_path / "o"), "nope.jpg")
    assert not (tmp_path / "o").exists()


def test_bad_out_folders(tmp_path):
    (tmp_path / "file").write_text("x")
    _one_line_error(run_cli("analyze", SOLVAY, "--out", tmp_path / "file"), "--out", "not a folder")
    _one_line_error(run_cli("analyze", SOLVAY, "--out", tmp_path / "file" / "sub"), "--out")
    _one_line_error(run_cli("analyze", SOLVAY, "--out", "/proc/ferkit_test/o"), "--out")


def test_outputs_take_the_umask(tmp_path):
    """Written files get the mode open() would give under the umask (rw-r--r-- under 022), not mkstemp's 0600."""
    out = tmp_path / "o"
    run_cli("analyze", SOLVAY, "--out", out, check=True)
    mask = os.umask(0)
    os.umask(mask)
    for f in (out / "results.json", out / "results.csv", out / "annotated" / SOLVAY.name):
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~mask


def _png_header(w: int, h: int) -> bytes:
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * (w + 1) * 4))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused(tmp_path):
    (tmp_path / "bomb.png").write_bytes(_png_header(40000, 40000))
    p = run_cli("analyze", tmp_path / "bomb.png", "--out", tmp_path / "o")
    _one_line_error(p, "bomb.png", "1,600,000,000 pixels")
    assert not (tmp_path / "o").exists()
    p = run_cli("analyze", SOLVAY, "--out", tmp_path / "o", "--max-pixels", "1000")
    _one_line_error(p, "Solvay", "limit of 1,000")


def test_no_face_csv_has_probability_columns(tmp_path):
    img = cv2.imread(str(SOLVAY))[420:, :]
    cv2.imwrite(str(tmp_path / "floor.png"), img)
    run_cli("analyze", tmp_path / "floor.png", "--out", tmp_path / "o", check=True)
    header = (tmp_path / "o" / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:9] == ["source", "frame", "face", "score", "emotion", "x1", "y1", "x2", "y2"]
    assert {"p_angry", "p_neutral", "no_face"} <= set(header)


def test_odd_arrays_in_the_api():
    """Grey, BGRA, 16-bit and float images give the faces of the 8-bit BGR image; empty or odd shapes are refused."""
    bgr = cv2.imread(str(SOLVAY))
    app = Analyzer()
    want = [f.emotion for f in app(bgr).faces]
    assert len(want) == 29
    for arr in (cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA), bgr.astype(np.uint16) * 257, bgr.astype(np.float32) / 255):
        assert [f.emotion for f in app(arr).faces] == want
    assert len(app(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)).faces) == 29
    for bad, msg in (
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros(5, np.uint8), "shape"),
        (np.full((8, 8), np.nan), "NaN"),
        (np.zeros((8, 8, 2), np.uint8), "shape"),
    ):
        with pytest.raises(BadInputError, match=msg):
            app(bad)


def test_models_lists_the_cards_figures():
    p = run_cli("models", check=True)
    default = next(line for line in p.stdout.splitlines() if line.startswith("ferkit_cnn_m2_kd "))
    assert "default" in default and "69.27% int8" in default
    assert "python -m lab ship --run runs/ferkit_cnn_m2_kd" in p.stdout


def test_readme_models_table_is_the_cards():
    """The README's table of shipped models is what `ferkit models --markdown` makes of the cards."""
    from ferkit.expression.registry import shipped_table

    readme = (REPO / "README.md").read_text()
    begin, end = "<!-- models-table:begin -->\n", "<!-- models-table:end -->"
    assert readme[readme.index(begin) + len(begin) : readme.index(end)] == shipped_table()
