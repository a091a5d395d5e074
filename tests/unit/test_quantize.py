"""Static int8 quantization of the shipped model: accuracy on a real PrivateTest subset within bound."""

from __future__ import annotations

from tests.conftest import run_cli


def test_int8_needs_calibration_data(tmp_path):
    p = run_cli("export", "--model", "default", "--int8", "--out", tmp_path / "x.onnx")
    assert p.returncode == 2 and "--calib-data" in p.stderr and not (tmp_path / "x.onnx").exists()
