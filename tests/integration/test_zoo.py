"""``ferkit zoo`` on the CPU: a 2-minute budget, two tiny teachers on a small real FER2013 subset, end to end; its
pack feeds ``ferkit train --teacher``; a killed zoo resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, run_cli

torch = pytest.importorskip("torch", reason="training needs the train extra")

BUDGET_S = 120


@pytest.fixture(scope="module")
def small_fer(fer_zip, tmp_path_factory):
    """A fer2013.csv of 1,000 Training, 250 PublicTest and 250 PrivateTest real faces."""
    from ferkit.data import FER2013
    from ferkit.data.fer2013 import write_fer2013_csv

    path = tmp_path_factory.mktemp("fer") / "fer2013.csv"
    sizes = {"Training": 1000, "PublicTest": 250, "PrivateTest": 250}
    write_fer2013_csv([FER2013(fer_zip, s).sample(n, 0) for s, n in sizes.items()], path)
    return path


def _zoo(out, data, budget: str) -> list[str]:
    models = "ferkit_cnn_s,simple_cnn:paper002"
    return ["zoo", "--budget", budget, "--out", str(out), "--data", str(data), "--models", models, "--threads", "2"]


def test_zoo_within_budget_and_its_pack_teaches(small_fer, tmp_path):
    out = tmp_path / "zoo"
    t = time.perf_counter()
    run_cli(*_zoo(out, small_fer, f"{BUDGET_S}s"), check=True)
    wall = time.perf_counter() - t
    manifest = json.loads((out / "pack" / "manifest.json").read_text())
    sec = manifest["seconds"]
    assert sec["within_budget"] and sec["measure_and_train"] <= BUDGET_S * 1.02
    assert sec["evaluate_export_pack"] <= 0.2 * BUDGET_S
    assert wall <= 1.2 * BUDGET_S + 15  # + this interpreter's start and the data's first read
    members = {m["name"]: m for m in manifest["members"]}
    assert set(members) == {"ferkit_cnn_s_ferkit", "simple_cnn_paper002"}
    for m in members.values():
        assert "failed" not in m and m["epochs_done"] >= 1 and m["plan"]["epochs"] >= 1
        assert 0.2 < m["publictest"]["tta10"] <= 1 and m["command"].startswith("ferkit train")
    ens = manifest["ensemble"]
    assert ens["members"] and set(ens["members"]) <= set(members) and 0 < ens["privatetest"] <= 1
    files = {f["file"]: f for f in manifest["files"]}
    assert len(files) <= 7 and all(f["bytes"] < 16 << 20 for f in files.values())
    on_disk = sorted(p.name for p in (out / "pack").iterdir())
    assert on_disk == sorted([*files, "manifest.json"])
    assert {"probabilities.npz", "ensemble_tta10.npz", "ferkit_cnn_s_ferkit.onnx"} <= set(files)

    # the packed ensemble teaches a student: `ferkit train --teacher` finds every training face in it
    student = tmp_path / "student"
    run_cli(
        "train",
        "--model",
        "ferkit_cnn_s",
        "--data",
        small_fer,
        "--teacher",
        out / "pack" / "ensemble_tta10.npz",
        "--out",
        student,
        "--epochs",
        "1",
        "--threads",
        "2",
        check=True,
    )
    assert json.loads((student / "run.json").read_text())["teacher"].endswith("ensemble_tta10.npz")
    # a packed ONNX teacher is a model spec like any other
    run_cli("evaluate", "--model", out / "pack" / "ferkit_cnn_s_ferkit.onnx", "--data", small_fer, check=True)

    # done: running it again changes nothing and trains nothing
    t = time.perf_counter()
    run_cli(*_zoo(out, small_fer, f"{BUDGET_S}s"), check=True)
    assert time.perf_counter() - t < 60
    assert json.loads((out / "pack" / "manifest.json").read_text())["ensemble"]["members"] == ens["members"]
    other = run_cli(*_zoo(out, small_fer, "5m"))
    assert other.returncode == 2 and "other settings" in other.stderr


def test_killed_zoo_resumes(small_fer, tmp_path):
    out = tmp_path / "zoo"
    cmd = [sys.executable, "-m", "ferkit.cli.main", *_zoo(out, small_fer, "90s")]
    p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    first = out / "runs" / "ferkit_cnn_s_ferkit" / "checkpoints" / "last.ckpt"
    deadline = time.time() + 90
    while not first.exists() and time.time() < deadline and p.poll() is None:
        time.sleep(0.5)
    assert first.exists(), "the first run wrote no checkpoint"
    os.killpg(p.pid, signal.SIGKILL)  # the zoo and its training process
    p.wait()
    assert not (out / "pack" / "manifest.json").exists()
    run_cli(*_zoo(out, small_fer, "90s"), check=True)
    manifest = json.loads((out / "pack" / "manifest.json").read_text())
    first_run = next(m for m in manifest["members"] if m["name"] == "ferkit_cnn_s_ferkit")
    assert first_run["command"].endswith("--resume") and first_run["epochs_done"] >= 1
    assert len(manifest["ensemble"]["members"]) >= 1
