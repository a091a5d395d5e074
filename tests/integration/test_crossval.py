"""`ferkit crossval` on the real CK+48: paper 004's hold-out and the subject-independent k-fold protocol."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ferkit.data import CKPlus


@pytest.fixture(scope="module")
def ck(shared):
    return CKPlus(shared / "ckplus48.tar")


def test_subject_folds_keep_subjects_apart(ck):
    from ferkit.training.crossval import protocol_folds

    folds = protocol_folds(ck, "subject-kfold", 10)
    assert len(folds) == 10
    tests = np.concatenate([te for _, _, te in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(ck)))  # every image is tested exactly once
    for tr, va, te in folds:
        parts = [set(ck.subjects[i]) for i in (tr, va, te)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert len(tr) + len(va) + len(te) == len(ck) and len(va) > 0


def test_holdout_is_stratified_80_20(ck):
    from ferkit.training.crossval import protocol_folds

    [(tr, va, te)] = protocol_folds(ck, "holdout")
    assert len(set(tr) | set(va) | set(te)) == len(ck) == len(tr) + len(va) + len(te)
    share = np.bincount(ck.labels[te], minlength=7) / np.bincount(ck.labels, minlength=7)
    assert np.all(np.abs(share - 0.2) < 0.05)
    with pytest.raises(ValueError, match="protocol"):
        protocol_folds(ck, "leave-one-out")


def test_holdout_attempts_draw_their_own_splits(ck):
    """Paper 004's ten attempts: attempt 0 is the single hold-out, every other attempt tests other faces."""
    from ferkit.training.crossval import protocol_folds

    [(_, _, single)] = protocol_folds(ck, "holdout")
    attempts = protocol_folds(ck, "holdout", repeats=3)
    assert len(attempts) == 3 and np.array_equal(attempts[0][2], single)
    assert not np.array_equal(np.sort(attempts[1][2]), np.sort(attempts[2][2]))
    assert all(len(te) == len(single) for _, _, te in attempts)


def test_crossval_svm_on_ckplus_and_resume(shared, tmp_path):
    """An SVM under 3 subject-independent folds: accuracy well above chance, pooled report and confusion picture;
    a rerun finds the finished folds and trains nothing."""
    from tests.conftest import run_cli

    out = tmp_path / "svm"
    args = (
        "crossval",
        "--model",
        "svm_hog",
        "--data",
        shared / "ckplus48.tar",
        "--protocol",
        "subject-kfold",
        "--folds",
        "3",
        "--grid",
        '{"C": [1, 10]}',
        "--out",
        out,
    )
    run_cli(*args, check=True)
    s = json.loads((out / "crossval.json").read_text())
    assert s["folds"] == 3 and s["n"] == 981 and s["accuracy_mean"] > 0.75
    assert abs(s["accuracy"] - s["accuracy_mean"]) < 0.02 and len(s["fold_accuracies"]) == 3
    assert (out / "crossval_confusion.png").stat().st_size > 0 and (out / "crossval.md").exists()
    assert all(n["best_params"]["C"] in (1, 10) for n in s["fold_notes"])
    assert s["peak_load_average"] == max(n["peak_load_average"] for n in s["fold_notes"]) > 0  # sampled per fold
    stamps = [(out / f"fold_{k:02d}" / "result.json").stat().st_mtime_ns for k in range(3)]
    p = run_cli(*args, check=True)
    assert [(out / f"fold_{k:02d}" / "result.json").stat().st_mtime_ns for k in range(3)] == stamps
    assert '"params"' not in p.stdout  # no grid search ran again


def test_crossval_torch_model_keeps_only_selected_weights(shared, tmp_path):
    from ferkit.training.crossval import crossval

    s = crossval("thesis_cnn_ck", "ckplus", shared / "ckplus48.tar", tmp_path, "holdout", recipe="smoke")
    [note] = s["fold_notes"]
    assert note["epochs_done"] == 1 and note["n_test"] == 196 and 0 <= s["accuracy"] <= 1
    assert (tmp_path / "fold_00" / "checkpoints" / "best.ckpt").exists()
    assert not (tmp_path / "fold_00" / "checkpoints" / "last.ckpt").exists()


def test_reproduction_table_reads_finished_and_unfinished_crossval(shared, tmp_path):
    """A finished CK+ cross-validation is a full row; one with folds still missing is reported as partial."""
    import shutil

    from ferkit.training.crossval import crossval
    from lab.reproduction import reproduction_report

    runs = tmp_path / "runs"
    crossval(
        "svm_hog",
        "ckplus",
        shared / "ckplus48.tar",
        runs / "svm_hog_ckplus48_holdout",
        "holdout",
        grid={"C": [10]},
        repeats=2,
    )
    shutil.copytree(runs / "svm_hog_ckplus48_holdout", runs / "svm_hog_ckplus48_subject-kfold")
    (runs / "svm_hog_ckplus48_subject-kfold" / "crossval.json").unlink()
    rows = {r["run"]: r for r in reproduction_report(runs, tmp_path / "rep.json")}
    full, part = rows["svm_hog_ckplus48_holdout"], rows["svm_hog_ckplus48_subject-kfold"]
    assert full["full_recipe"] and full["accuracy"] > 0.9 and full["params"] > 0 and full["dataset"] == "CK+48"
    assert full["status"] == "full recipe, 2 attempts" and full["accuracy_max"] >= full["accuracy"]
    assert not part["full_recipe"] and part["status"].startswith("partial: 2 folds done")
    assert part["accuracy"] == full["accuracy"]
    for r in rows.values():  # every row more than 2 points below its paper says why
        assert r["accuracy"] is None or (r["gap_points"] < -2) == bool(r["gap_explanation"])
    assert rows["thesis_cnn_ck_ckplus48_holdout"]["accuracy"] is None
