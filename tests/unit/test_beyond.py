"""`python -m lab report beyond` on the project's own measured reports: each figure is the source best on validation."""

from __future__ import annotations

import json
import shutil

from tests.conftest import REPO

REPORTS = REPO / "reports"


def test_beyond_report_reads_the_measured_reports(tmp_path):
    from lab.beyond import beyond_report

    for name in (
        "default_privatetest.json",
        "default_privatetest_tta10.json",
        "default_publictest_tta0.json",
        "default_publictest_tta10.json",
        "default_ferplus_test.json",
        "default_ferplus_publictest.json",
        "speed.json",
        "reproduction.json",
    ):
        shutil.copy(REPORTS / name, tmp_path / name)
    r = beyond_report(tmp_path, tmp_path / "no_runs", tmp_path / "beyond.json")
    rows = {row["key"]: row for row in r["rows"]}
    # chosen on PublicTest, reported on PrivateTest: the views setting with the better PublicTest figure
    read = lambda n: json.loads((REPORTS / n).read_text())["accuracy"]  # noqa: E731
    twins = {
        "default_privatetest.json": "default_publictest_tta0.json",
        "default_privatetest_tta10.json": "default_publictest_tta10.json",
    }
    assert r["best_single_privatetest"] == read(max(twins, key=lambda t: read(twins[t])))
    single = rows["best_single_privatetest"]
    assert single["selection_accuracy"] == max(
        c["selection_accuracy"] for c in single["candidates"] if c["selection_accuracy"] is not None
    )
    repro = [c for c in single["candidates"] if c["source"] == "reproduction.json"]
    assert repro and all(c["selection_accuracy"] is None for c in repro)  # no PublicTest figure: never chosen
    assert r["best_ensemble_privatetest"] is None  # no ensemble report in this folder: listed as not measured
    assert rows["best_ensemble_privatetest"]["why_not"] == "not measured yet"
    assert (
        rows["ferplus_test"]["accuracy"] == json.loads((REPORTS / "default_ferplus_test.json").read_text())["accuracy"]
    )
    d = r["default_model"]
    assert d["faces_per_s"] == json.loads((REPORTS / "speed.json").read_text())["classifier_faces_per_s"]
    assert d["reached"] == (d["privatetest"] >= 0.73 and d["faces_per_s"] >= 2000)
    from ferkit.expression.registry import model_card

    assert d["distilled_from"] == model_card(d["name"]).get("distillation")  # the shipped card says how it was made
    md = (tmp_path / "beyond.md").read_text()
    assert json.loads((tmp_path / "beyond.json").read_text())["ferplus_test"] == r["ferplus_test"]
    assert f"{r['best_single_privatetest']:.2%}" in md and "## Not reached, and why" in md


def test_beyond_student_falls_back_to_its_card(tmp_path, monkeypatch):
    """With its run gone (runs are not kept in git), the distilled candidate's section is read from its card."""
    from ferkit.expression.registry import model_card
    from lab import beyond

    monkeypatch.setattr(beyond, "STUDENT_RUN", "ferkit_cnn_m_kd")  # a shipped distilled model, not the default
    for name in ("speed.json", "ferkit_cnn_m_kd_publictest.json", "ferkit_cnn_m_kd_privatetest.json"):
        shutil.copy(REPORTS / name, tmp_path / name)
    st = beyond.beyond_report(tmp_path, tmp_path / "no_runs", tmp_path / "beyond.json")["distilled_student"]
    card, default = (
        model_card("ferkit_cnn_m_kd"),
        model_card(json.loads((REPORTS / "speed.json").read_text())["classifier"]),
    )
    assert st["command"] == card["train_command"] and st["teacher_model"] == card["distillation"]["teacher_model"]
    assert st["publictest"] == json.loads((REPORTS / "ferkit_cnn_m_kd_publictest.json").read_text())["accuracy"]
    assert st["default_publictest"] == default["publictest_accuracy"] and not st["shipped_as_default"]
    assert st["int8_publictest"] == card["int8"]["publictest_accuracy"]  # no int8 report copied: the card's figure
    assert st["default_int8_publictest"] == default["int8"]["publictest_accuracy"]
    assert "## The distilled student" in (tmp_path / "beyond.md").read_text()


def test_the_default_rule_weighs_the_full_pipeline_on_real_photos():
    """A distilled candidate that beats the default on PublicTest is still not the default where the whole pipeline
    gets worse on the real photos (muxspace_dev); its pipeline figures come from its own calibration report."""
    from ferkit.config import DEFAULT_MODEL
    from ferkit.utils.io import read_json
    from lab import beyond

    cand = beyond._pipeline(read_json(REPORTS / "calibration_ferkit_cnn_m2_kd6.json"), "ferkit_cnn_m2_kd6")
    default = beyond._pipeline(read_json(REPORTS / "calibration.json"), DEFAULT_MODEL)
    assert beyond._pipeline(read_json(REPORTS / "calibration.json"), "ferkit_cnn_m2_kd6") == {}  # another model's
    assert cand["photos_right"] == 0.5417 and default["photos_right"] == 0.5567  # as measured
    st = {
        "shipped_as_default": False,
        "int8_publictest": 0.6868,
        "default_int8_publictest": 0.6829,
        **cand,
        **{f"default_{k}": v for k, v in default.items()},
    }
    assert "gets worse on the real photos" in beyond._verdict(st)
    assert beyond._verdict({**st, "photos_right": 0.56, "publictest_pipeline_crops": 0.68}).startswith("a candidate")
    assert "does not beat" in beyond._verdict({**st, "int8_publictest": 0.6829})
