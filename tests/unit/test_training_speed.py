"""The training loop's speed parts: device batches, learning-rate scaling, precision, memory reuse, fp16-stored
ONNX weights, `bench --train` and the zoo's option checks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO, SOLVAY, run_cli

torch = pytest.importorskip("torch", reason="training needs the train extra")


def _faces(n: int = 300):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 1, 48, 48), dtype=torch.uint8, generator=g)
    y = torch.arange(n) % 7
    return x, y


def test_face_batches_cover_each_face_once_per_epoch_in_a_new_order():
    from ferkit.training.batches import FaceBatches

    x, y = _faces()
    idx = torch.arange(len(y))
    b = FaceBatches((x, y, idx), 64, seed=3)
    assert len(b) == 4  # 300 // 64, the last partial batch dropped
    epoch0 = torch.cat([t[2] for t in b])
    assert len(epoch0) == 256 and len(set(epoch0.tolist())) == 256
    for xb, yb, ib in b:  # every tensor sliced by the same indices
        assert torch.equal(xb, x[ib]) and torch.equal(yb, y[ib])
    b.set_epoch(1)
    epoch1 = torch.cat([t[2] for t in b])
    assert not torch.equal(epoch0, epoch1)
    b.set_epoch(0)  # a resumed run draws the same order for the same epoch
    assert torch.equal(torch.cat([t[2] for t in b]), epoch0)


def test_face_batches_validation_keeps_every_face_in_order():
    from ferkit.training.batches import FaceBatches

    x, y = _faces(130)
    v = FaceBatches((x, y), 64, shuffle=False, drop_last=False, shard=False)
    assert len(v) == 3 and torch.equal(torch.cat([t[1] for t in v]), y)


def test_face_batches_oversampling_balances_classes():
    from ferkit.training.batches import FaceBatches

    y = torch.tensor([0] * 900 + [1] * 100)
    x = torch.zeros(len(y), 1, 2, 2, dtype=torch.uint8)
    counts = torch.bincount(y).double()
    w = (1 / counts)[y]
    drawn = torch.cat([t[1] for t in FaceBatches((x, y), 100, weights=w, seed=0)])
    share = (drawn == 1).float().mean().item()
    assert 0.4 < share < 0.6  # 10% of the faces, about half of the draws


def test_lr_scaling_rules():
    from ferkit.training.recipes import get_recipe, lr_scaling

    sgd = get_recipe("ferkit", batch_size=512)  # SGD, recipe batch 128
    assert lr_scaling(sgd)["factor"] == 4.0 and lr_scaling(sgd)["rule"] == "linear"
    assert lr_scaling(sgd, rule="sqrt")["factor"] == 2.0
    assert lr_scaling(sgd, rule="none")["factor"] == 1.0
    assert lr_scaling(sgd, lr_given=True)["factor"] == 1.0  # an explicit --lr is kept
    assert lr_scaling(get_recipe("ferkit"), world_size=4)["global_batch"] == 512
    adam = get_recipe("paper002", batch_size=512)
    assert lr_scaling(adam)["rule"] == "sqrt" and lr_scaling(adam)["factor"] == 2.0
    assert lr_scaling(get_recipe("ferkit"))["factor"] == 1.0


def test_auto_precision_follows_the_cpu():
    from ferkit.training.hardware import resolve_precision
    from ferkit.utils.cpu import cpu_bf16

    assert resolve_precision("32-true") == "32-true"
    assert resolve_precision("auto", "cpu") == ("bf16-mixed" if cpu_bf16() else "32-true")


_FAULTS = """
import resource, torch
from ferkit.utils.memory import keep_freed_memory
def faults():  # page faults of one 64 MiB tensor (above glibc's default mmap threshold, as a step's), median of 5
    out = []
    for _ in range(5):
        r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        a = torch.ones(64 << 18)
        del a
        out.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
    return sorted(out)[2]
before = faults()
kept = keep_freed_memory()
faults()  # the heap grows once
print(before, kept, faults())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keeping_freed_memory_stops_page_faults():
    out = subprocess.run([sys.executable, "-c", _FAULTS], capture_output=True, text=True, check=True).stdout.split()
    before, kept, after = float(out[0]), out[1] == "True", float(out[2])
    assert kept and before > 10_000 and after < before / 20


def test_halved_weights_onnx_is_smaller_and_agrees(tmp_path):
    from ferkit.data.faceset import to_face
    from ferkit.expression.classifier import ExpressionClassifier
    from ferkit.expression.export import export_onnx, halve_weights
    from ferkit.expression.nets import WithPreprocessing
    from ferkit.expression.registry import create_model
    from ferkit.utils.io import read_image

    torch.manual_seed(0)
    model = WithPreprocessing(create_model("ferkit_cnn_m"), softmax=True).eval()
    full = export_onnx(model, tmp_path / "m.onnx")
    half = halve_weights(full, tmp_path / "m_fp16w.onnx")
    assert half.stat().st_size < 0.6 * full.stat().st_size
    img = read_image(SOLVAY)
    h, w = img.shape[:2]
    faces = np.stack([to_face(img[y : y + h // 4, x : x + w // 6]) for y in (0, h // 3) for x in (0, w // 2)])
    p_full = ExpressionClassifier(str(full)).predict_proba(faces)
    p_half = ExpressionClassifier(str(half)).predict_proba(faces)
    assert np.abs(p_full - p_half).max() < 5e-3


def test_bench_train_times_both_data_paths():
    p = run_cli(
        "bench",
        "--train",
        "ferkit_cnn_s",
        "--faces",
        "256",
        "--batch-size",
        "64",
        "--epochs",
        "1",
        "--seconds",
        "0.5",
        "--train-precision",
        "32-true",
        "--data-path",
        "loader,device",
        "--threads",
        "2",
        check=True,
    )
    rep = json.loads(p.stdout[p.stdout.index('{\n  "model"') :])
    assert [(r["data_path"], r["freed_memory"]) for r in rep["rows"]] == [("loader", "keep"), ("device", "keep")]
    for r in rep["rows"]:
        assert r["epoch_seconds"] > 0 and r["step_faces_per_s"] > 0 and 0 <= r["outside_step_share"] < 1


@pytest.mark.parametrize(
    "args, names",
    [
        (
            ["train", "--model", "ferkit_cnn_s", "--data", "x", "--out", "y", "--train-precision", "fp8"],
            "--train-precision",
        ),
        (["train", "--model", "ferkit_cnn_s", "--data", "x", "--out", "y", "--data-path", "disk"], "--data-path"),
        (["train", "--model", "ferkit_cnn_s", "--data", "x", "--out", "y", "--compile", "fast"], "--compile"),
        (["bench", "--train", "knn_pixels"], "--train"),
        (["bench", "--train", "ferkit_cnn_s", "--faces", "10"], "--faces"),
        (["zoo", "--budget", "soon", "--out", "z", "--data", str(SOLVAY)], "--budget"),
        (["zoo", "--budget", "1m", "--out", "z", "--data", str(SOLVAY), "--models", "nosuch"], "nosuch"),
        (["zoo", "--budget", "1m", "--out", "z", "--data", str(SOLVAY), "--models", "dcnn6:paper999"], "paper999"),
        (["zoo", "--budget", "1m", "--out", "z", "--data", "missing.zip"], "--data"),
        (["zoo", "--budget", "1m", "--out", "z", "--data", str(SOLVAY), "--views", "11"], "--views"),
    ],
)
def test_bad_training_options_are_one_line_errors(args, names):
    p = run_cli(*args)
    assert p.returncode == 2 and names in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not (REPO / "z").exists() and not (REPO / "y").exists()  # nothing written
