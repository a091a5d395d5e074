"""No silent wrong answers: every option checked before work starts, outputs never clobbered or fed back, every bad
input a one-line error with nothing left behind."""

from __future__ import annotations

import json
import os
import shutil

from tests.conftest import CLIP, run_cli


def test_rerun_into_the_input_folder_is_identical(tmp_path, demo):
    """`analyze same --out same` twice: the second run does not analyse its own outputs (same faces, no nested
    annotated/annotated); img.jpg, img.jpeg and img.JPG keep three annotated files and three results."""
    same = tmp_path / "same"
    same.mkdir()
    shutil.copy(demo / "laos.jpg", same / "img.jpg")
    shutil.copy(demo / "laos.jpg", same / "img.jpeg")
    shutil.copy(demo / "two_people.jpg", same / "img.JPG")
    run_cli("analyze", same, "--out", same, check=True)
    first = (same / "results.json").read_text()
    run_cli("analyze", same, "--out", same, check=True)
    assert (same / "results.json").read_text() == first
    recs = json.loads(first)
    assert {os.path.basename(r["source"]) for r in recs} == {"img.jpg", "img.jpeg", "img.JPG"}
    assert sorted(p.name for p in (same / "annotated").iterdir()) == ["img.JPG.jpg", "img.jpeg.jpg", "img.jpg"]
    assert not (same / "annotated" / "annotated").exists()


def test_out_inside_the_input_folder_is_not_an_input(tmp_path, demo):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(demo / "laos.jpg", photos / "a.jpg")
    for _ in range(2):
        p = run_cli("analyze", photos, "--out", photos / "results", check=True)
        assert "2 faces" in p.stdout


def test_several_sources_in_one_run(tmp_path, demo):
    """Images, a folder and a video in one command: one results file; two images of the same name from two places
    get two annotated files."""
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(demo / "two_people.jpg", other / "laos.jpg")
    out = tmp_path / "o"
    p = run_cli("analyze", demo / "laos.jpg", other / "laos.jpg", CLIP, "--out", out, "--max-frames", "8", check=True)
    recs = json.loads((out / "results.json").read_text())
    assert {r["source"] for r in recs if r["frame"] is None} == {str(demo / "laos.jpg"), str(other / "laos.jpg")}
    assert sorted(p.name for p in (out / "annotated").iterdir()) == ["laos.jpg", "laos~2.jpg"]
    assert (out / "tears_of_steel_clip_640x360_10s_summary.json").is_file() and "faces" in p.stdout
