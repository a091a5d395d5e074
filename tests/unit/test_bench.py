"""``ferkit bench`` runs on the bundled photo and video and reports its figures (speed targets live in reports)."""

from __future__ import annotations

import json

from tests.conftest import run_cli


def test_bench_json(tmp_path):
    out = tmp_path / "bench.json"
    run_cli("bench", "--seconds", "0.3", "--rounds", "2", "--detect-every", "3", "--json", out, check=True)
    rep = json.loads(out.read_text())
    assert rep["timing"] == {"min_seconds": 0.3, "rounds": 2}
    from lab.speed_report import speed_markdown  # reports/speed.md's page (`python -m lab speed`)

    assert "fastest of 2 timing windows of at least 0.3 s" in speed_markdown(rep, out.name)
    assert rep["classifier_faces_per_s"] > 0 and rep["video_fps"] > 0
    assert rep["video_frames"] == 240 and rep["video_faces"] == 189  # as in reports/speed.json
    assert rep["photo_faces"] == 29  # the Solvay photo's 29 people
    assert set(rep["classifier_faces_per_s_by_batch"]) == {"1", "32", "256"}
    stages = rep["stage_ms_per_frame"]
    assert set(stages) == {"decode", "detect", "align", "classify"} and all(v >= 0 for v in stages.values())
    assert sum(stages.values()) <= 1000 / rep["video_fps"] * 1.05  # the stages add up to (at most) the frame time
    (clip,), (v640,) = rep["pipeline_clip"], rep["pipeline_640x480"]
    assert clip["frames"] == v640["frames"] == 240 and clip["detect_every"] == 3
    assert clip["fps"] > 0 and 0 < v640["peak_memory_mb"] < 2000
    assert rep["precisions"]["int8"]["file"] == "model_int8.onnx" and rep["classifier_precision"] == "int8"
    md = out.with_suffix(".md").read_text()  # the Markdown twin, with the same figures
    assert f"| video_faces | {rep['video_faces']} |" in md and rep["command"] in md
