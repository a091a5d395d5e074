"""Masked faces: synthesis (deterministic, on the lower face, failures reported), the masked dataset, stored
teacher outputs, mask detection on real photos, and `analyze --masked auto` routing."""

from __future__ import annotations

import pytest


def test_masked_report_keeps_rows_of_runs_not_here(tmp_path):
    """A student run missing on this machine keeps its previous figures, flagged; with no previous row it is
    'not run'."""
    from lab.masked_report import _run_row

    old = {"run": "runs/masked_kd", "privatetest_accuracy": 0.4965, "publictest_accuracy": 0.4915, "epochs": 15}
    row = _run_row(tmp_path / "missing", "unused", old)
    assert row["carried_over"] and row["privatetest_accuracy"] == 0.4965 and row["run"] == "runs/masked_kd"
    assert _run_row(tmp_path / "missing", "unused", None) == {"run": str(tmp_path / "missing"), "status": "not run"}


def test_masked_report_takes_a_gpu_ensemble_teachers_figure_from_its_report():
    """A teacher the package cannot load (an ensemble with a GPU-trained member) gets the PrivateTest figure of the
    ensemble report that measured it, with that source; an unknown one none."""
    from ferkit.utils.io import read_json
    from lab.masked_report import ENSEMBLE_REPORT, _teacher_full

    ens = read_json(ENSEMBLE_REPORT)
    got = _teacher_full("+".join(ens["members"]), "unused")
    assert got["accuracy"] == ens["accuracy"] > 0.7 and str(ENSEMBLE_REPORT) in got["source"]
    assert _teacher_full("no_such_model+tta10", "unused") == {"accuracy": None, "source": "not measured"}


def test_missing_mask_detector_weights_give_a_clear_error(tmp_path):
    from ferkit.errors import FerkitError
    from ferkit.masks.detector import MaskDetector

    with pytest.raises(FerkitError, match="mask detector weights are missing"):
        MaskDetector(colour=tmp_path / "model.onnx")
