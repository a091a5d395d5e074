"""``ferkit train`` (Lightning): a short real run on FER2013, resume from the last checkpoint, ONNX export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import SOLVAY, run_cli, run_lab

torch = pytest.importorskip("torch", reason="training needs the train extra")


def test_train_resume_export(fer_zip, tmp_path, private_test):
    run = tmp_path / "run"
    base = [
        "train",
        "--model",
        "ferkit_cnn_s",
        "--dataset",
        "fer2013",
        "--data",
        fer_zip,
        "--out",
        run,
        "--limit-batches",
        "8",
        "--batch-size",
        "32",
        "--threads",
        "2",
    ]
    run_cli(*base, "--epochs", "1", check=True)
    assert (run / "checkpoints" / "last.ckpt").exists()
    again = run_cli(*base, "--epochs", "1")
    assert again.returncode == 2 and "--resume" in again.stderr  # an existing run is never overwritten silently
    run_cli(*base, "--epochs", "2", "--resume", check=True)
    epochs = [json.loads(x) for x in (run / "epochs.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [0, 1] and all(0 <= e["val_acc"] <= 1 for e in epochs)
    summary = json.loads((run / "summary.json").read_text())
    from ferkit.training.hardware import resolve_precision

    assert summary["epochs_done"] == 2 and summary["best_val_acc"] is not None
    assert summary["precision"] == resolve_precision("auto", "cpu")  # bf16-mixed only where the CPU computes it
    info = json.loads((run / "run.json").read_text())
    assert info["data_path"] == "device" and info["freed_memory"] == "keep" and info["lr_scaling"]["factor"] == 0.25
    assert summary["peak_load_average"] > 0  # sampled while training ran (the CPU was busy)

    p_onnx, torch_clf = _export_matches_checkpoint(run, tmp_path / "m.onnx", private_test.images[:64])
    assert torch_clf.name == "run"  # results name a checkpoint by its run folder, not "best"
    np.testing.assert_allclose(p_onnx.sum(1), 1, atol=1e-5)

    # `analyze --model` takes the checkpoint as it takes its ONNX export: the same labels on the Solvay faces
    runs = {}
    for name, spec in (("ckpt", run / "checkpoints" / "best.ckpt"), ("onnx", tmp_path / "m.onnx")):
        run_cli("analyze", SOLVAY, "--model", spec, "--out", tmp_path / name, check=True)
        runs[name] = json.loads((tmp_path / name / "results.json").read_text())
    assert len(runs["ckpt"]) == len(runs["onnx"]) == 29
    assert [r["emotion"] for r in runs["ckpt"]] == [r["emotion"] for r in runs["onnx"]]


def _export_matches_checkpoint(run, onnx, faces):
    """`ferkit export` of the run's best checkpoint to ``onnx``; asserts it agrees with the checkpoint in torch on
    ``faces`` (max abs difference of probabilities < 1e-4); (ONNX probabilities, the torch classifier)."""
    run_cli("export", "--checkpoint", run / "checkpoints" / "best.ckpt", "--out", onnx, check=True)
    from ferkit.expression.classifier import ExpressionClassifier
    from ferkit.expression.export import TorchClassifier

    clf = ExpressionClassifier(str(onnx))
    torch_clf = TorchClassifier(run / "checkpoints" / "best.ckpt", clf.classes)
    p_onnx = clf.predict_proba(faces)
    assert np.abs(p_onnx - torch_clf.predict_proba(faces)).max() < 1e-4
    # a photo without a face gives both an empty batch (the pipeline's `--model run.ckpt` on such a photo)
    assert torch_clf.predict_proba(faces[:0]).shape == clf.predict_proba(faces[:0]).shape == (0, len(clf.classes))
    return p_onnx, torch_clf


def test_bf16_mixed_training_is_recorded_and_exports_fp32(fer_zip, tmp_path, private_test):
    """`--train-precision bf16-mixed` (fast on CPUs with AMX / AVX-512 BF16): fp32 weights in the checkpoint, the
    precision in summary.json, and an ONNX export that matches the checkpoint."""
    run = tmp_path / "bf16"
    run_cli(
        "train",
        "--model",
        "ferkit_cnn_s",
        "--data",
        fer_zip,
        "--out",
        run,
        "--limit-batches",
        "4",
        "--batch-size",
        "32",
        "--epochs",
        "1",
        "--threads",
        "2",
        "--train-precision",
        "bf16-mixed",
        check=True,
    )
    summary = json.loads((run / "summary.json").read_text())
    assert summary["precision"] == "bf16-mixed" and summary["hardware"].startswith("CPU")
    state = torch.load(run / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    assert all(v.dtype in (torch.float32, torch.int64) for v in state.values())
    _export_matches_checkpoint(run, tmp_path / "m.onnx", private_test.images[:32])


def test_loss_falls_on_real_faces(fer_zip):
    """A few optimiser steps on one real batch of FER2013 faces lower the training loss."""
    from ferkit.data import FER2013
    from ferkit.training.module import ExpressionModule
    from ferkit.training.recipes import get_recipe

    ds = FER2013(fer_zip, "PublicTest")
    torch.manual_seed(0)
    m = ExpressionModule("ferkit_cnn_s", 7, get_recipe("ferkit").to_dict())
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    x = torch.from_numpy(ds.images[:64, None].astype(np.float32))
    y = torch.from_numpy(ds.labels[:64])
    losses = []
    for _ in range(15):
        loss = m._loss(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.8


def test_distil_from_a_stored_teacher(fer_zip, tmp_path):
    teacher = tmp_path / "teacher.npz"
    run_cli("teach", "--data", fer_zip, "--out", teacher, check=True)
    base = [
        "train",
        "--model",
        "ferkit_cnn_s",
        "--data",
        fer_zip,
        "--limit-batches",
        "4",
        "--batch-size",
        "32",
        "--epochs",
        "1",
        "--threads",
        "2",
    ]
    run_cli(*base, "--out", tmp_path / "kd", "--teacher", teacher, "--kd-alpha", "0.3", check=True)
    info = json.loads((tmp_path / "kd" / "run.json").read_text())
    assert info["teacher"] == str(teacher) and info["recipe"]["kd_alpha"] == 0.3
    assert info["recipe"]["kd_loss"] == "hinton"  # paper 000's loss unless asked otherwise
    run_cli(*base, "--out", tmp_path / "lite", "--teacher", teacher, "--kd-loss", "soft_labels", check=True)
    lite = json.loads((tmp_path / "lite" / "summary.json").read_text())
    assert lite["recipe"]["kd_loss"] == "soft_labels" and lite["epochs_done"] == 1
    wrong = tmp_path / "public.npz"  # outputs on another split: refused, naming a missing face
    run_cli("teach", "--data", fer_zip, "--split", "publictest", "--out", wrong, check=True)
    p = run_cli(*base, "--out", tmp_path / "bad", "--teacher", wrong)
    assert p.returncode == 2 and "no output for 28709 face(s)" in p.stderr


def test_short_schedule_is_recorded_and_reported(fer_zip, tmp_path):
    """`--max-train` and fewer epochs than the recipe's make a short schedule: summary.json says so, and the
    reproduction table reports the row as cut short, not as its paper's full recipe."""
    from ferkit.training.recipes import RECIPES

    out = tmp_path / "runs" / "simple_cnn"
    run_cli(
        "train",
        "--model",
        "simple_cnn",
        "--recipe",
        "paper002",
        "--data",
        fer_zip,
        "--out",
        out,
        "--max-train",
        "256",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--threads",
        "2",
        check=True,
    )
    summary = json.loads((out / "summary.json").read_text())
    info = json.loads((out / "run.json").read_text())
    assert info["n_train"] == 256 and info["n_train_split"] == 28709
    short = f"1 of {RECIPES['paper002'].epochs} epochs, on 256 of 28,709 training faces"
    assert summary["short_schedule"] == short and not summary["full_recipe"]
    assert summary["epochs_done"] == 1 and summary["epochs_trained"] == 1
    run_cli(
        "evaluate",
        "--model",
        out / "checkpoints" / "best.ckpt",
        "--data",
        fer_zip,
        "--split",
        "privatetest",
        "--json",
        out / "privatetest.json",
        check=True,
    )
    table = tmp_path / "reproduction.json"
    run_lab("report", "reproduction", "--runs", tmp_path / "runs", "--out", table, check=True)
    row = {r["run"]: r for r in json.loads(table.read_text())}["simple_cnn"]
    assert row["status"] == f"short schedule: {short}" and row["full_recipe"] is False
    assert row["gap_explanation"].startswith("schedule cut short")
    assert row["majority_class_accuracy"] == round(879 / 3589, 4)  # PrivateTest: 879 happy faces
    md = table.with_suffix(".md").read_text()
    assert "on a 'short schedule'" in md and "most common class scores 24.49% on FER2013 PrivateTest" in md


def test_init_from_a_shipped_model_computes_it(fer_zip, private_test):
    """`init_weights` unfolds a shipped ONNX model's folded batch norms: in eval mode the net gives the shipped
    model's probabilities; in train mode (batch statistics) it still classifies real faces as well; an
    architecture its layers do not fit is refused by name."""
    from ferkit.data import FER2013
    from ferkit.errors import FerkitError
    from ferkit.expression.classifier import ExpressionClassifier
    from ferkit.training.init_weights import init_weights
    from ferkit.training.module import ExpressionModule
    from ferkit.training.recipes import get_recipe

    calib = FER2013(fer_zip, "Training").images[:512]
    m = ExpressionModule("ferkit_cnn_s", 7, get_recipe("ferkit").to_dict())
    assert init_weights(m.model, "ferkit_cnn_s", calib) == "ferkit_cnn_s"
    faces, labels = private_test.images[:1024], private_test.labels[:1024]
    x = torch.from_numpy(faces[:, None].astype(np.float32))
    shipped = ExpressionClassifier("ferkit_cnn_s", precision="fp32").predict_proba(faces)
    with torch.no_grad():
        p_eval = m.eval()(x).softmax(-1).numpy()
        m.train()
        m.model.net.head[2].p = 0.0  # dropout off: batch statistics are what is under test
        p_train = m(x).softmax(-1).numpy()
    assert np.abs(p_eval - shipped).max() < 1e-4
    acc_shipped, acc_train = (shipped.argmax(1) == labels).mean(), (p_train.argmax(1) == labels).mean()
    assert acc_shipped > 0.6 and abs(acc_train - acc_shipped) < 0.02
    other = ExpressionModule("ferkit_cnn_m", 7, get_recipe("ferkit").to_dict())
    with pytest.raises(FerkitError, match="do not fit"):
        init_weights(other.model, "ferkit_cnn_s", calib)


def test_train_from_a_shipped_model(fer_zip, tmp_path):
    """`train --init`: the run starts from the shipped model (validation accuracy after two small steps is the
    model's, far above a random start's), records where it started, and resumes from its own checkpoint."""
    run = tmp_path / "ft"
    base = [
        "train",
        "--model",
        "ferkit_cnn_s",
        "--data",
        fer_zip,
        "--out",
        run,
        "--init",
        "ferkit_cnn_s",
        "--limit-batches",
        "2",
        "--batch-size",
        "32",
        "--threads",
        "2",
    ]
    run_cli(*base, "--epochs", "1", check=True)
    info, summary = (json.loads((run / f).read_text()) for f in ("run.json", "summary.json"))
    assert info["init"] == summary["init"] == "ferkit_cnn_s"
    assert summary["best_val_acc"] > 0.5  # 2 x 512 PublicTest faces; a random start gets about 0.25
    run_cli(*base, "--epochs", "2", "--resume", check=True)
    assert len((run / "epochs.jsonl").read_text().splitlines()) == 2
    p = run_cli(
        "train",
        "--model",
        "ferkit_cnn_s",
        "--data",
        fer_zip,
        "--out",
        tmp_path / "bad",
        "--init",
        tmp_path / "none.ckpt",
        "--limit-batches",
        "1",
        "--epochs",
        "1",
    )
    assert p.returncode == 2 and "no such checkpoint" in p.stderr


def test_ddp_on_cpu_with_two_processes(fer_zip, tmp_path):
    """Lightning DDP smoke test: 2 CPU processes (gloo) train a few steps and write the checkpoints."""
    run = tmp_path / "ddp"
    p = run_cli(
        "train",
        "--model",
        "ferkit_cnn_s",
        "--data",
        fer_zip,
        "--out",
        run,
        "--accelerator",
        "cpu",
        "--devices",
        "2",
        "--strategy",
        "ddp",
        "--limit-batches",
        "3",
        "--batch-size",
        "32",
        "--epochs",
        "1",
        "--threads",
        "1",
    )
    assert p.returncode == 0, p.stderr
    assert "Starting with 2 processes" in p.stderr and "MEMBER: 2/2" in p.stderr
    assert (run / "checkpoints" / "best.ckpt").is_file() and json.loads((run / "summary.json").read_text())[
        "epochs_done"
    ] == 1


def test_compiled_and_ddp_runs_train_and_export(fer_zip, tmp_path, private_test):
    """`--compile` (torch.compile in place: the checkpoint keeps its keys and exports) and `--devices 2 --strategy
    ddp` on the CPU (two processes, each taking its share of every epoch from the device batches)."""
    base = ["train", "--model", "ferkit_cnn_s", "--data", fer_zip, "--batch-size", "32", "--epochs", "1"]
    compiled = tmp_path / "compiled"
    run_cli(*base, "--out", compiled, "--limit-batches", "3", "--threads", "2", "--compile", check=True)
    assert json.loads((compiled / "run.json").read_text())["compile"] == "default"
    _export_matches_checkpoint(compiled, tmp_path / "c.onnx", private_test.images[:32])

    ddp = tmp_path / "ddp"
    ddp_args = ["--accelerator", "cpu", "--devices", "2", "--strategy", "ddp", "--threads", "1"]
    run_cli(*base, "--out", ddp, "--max-train", "640", *ddp_args, check=True)
    info = json.loads((ddp / "run.json").read_text())
    assert info["lr_scaling"]["global_batch"] == 64  # 32 per process x 2
    metrics = (ddp / "logs" / "version_0" / "metrics.csv").read_text()
    assert "val_acc" in metrics
    summary = json.loads((ddp / "summary.json").read_text())
    assert summary["epochs_done"] == 1 and summary["epochs_trained"] == 1.0  # 640 faces / 2 processes / 32 = 10 steps
