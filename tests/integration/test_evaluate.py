"""``ferkit evaluate`` with the shipped default model on FER2013 and on a class-per-folder archive."""

from __future__ import annotations

import json
import tarfile

import cv2
import numpy as np

from ferkit.expression.registry import model_card
from tests.conftest import run_cli


def test_default_model_on_privatetest(fer_zip, tmp_path):
    """The shipped default reaches its floor (>= 65%) on the 3,589 PrivateTest faces, as its card says."""
    out = tmp_path / "eval.json"
    run_cli("evaluate", "--dataset", "fer2013", "--data", fer_zip, "--split", "privatetest", "--json", out, check=True)
    rep = json.loads(out.read_text())
    assert rep["n"] == 3589 and rep["split"] == "PrivateTest"
    assert rep["accuracy"] >= 0.65
    card = model_card(rep["model"])
    assert abs(card["privatetest_accuracy"] - rep["accuracy"]) < 0.002
    assert set(rep["per_class"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    cm = np.array(rep["confusion_matrix"])
    assert cm.sum() == 3589 and abs(np.trace(cm) / 3589 - rep["accuracy"]) < 1e-4
    assert (tmp_path / "eval_confusion.png").stat().st_size > 10_000


def test_evaluate_folder_archive_with_synonyms(private_test, tmp_path):
    root = tmp_path / "crops"
    folders = {"Anger": 0, "Happiness": 3, "sadness": 4, "Surprised": 5, "neutral": 6, "contempt": 1}
    for name, label in folders.items():
        (root / name).mkdir(parents=True)
        for i in np.flatnonzero(private_test.labels == label)[:40]:
            cv2.imwrite(str(root / name / f"{i}.png"), private_test.images[i])
    archive = tmp_path / "crops.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        t.add(root, arcname="crops")
    out = tmp_path / "folder.json"
    p = run_cli("evaluate", "--dataset", "folder", "--data", archive, "--json", out, check=True)
    rep = json.loads(out.read_text())
    assert rep["n"] == 200 and rep["skipped"] == {"contempt": 40}
    assert rep["per_class"]["happy"]["support"] == 40 and rep["per_class"]["fear"]["support"] == 0
    assert rep["accuracy"] > 0.6
    assert "contempt" in p.stdout


def test_evaluate_wrong_layout(shared, tmp_path):
    p = run_cli("evaluate", "--dataset", "fer2013", "--data", shared / "ckplus48.tar", "--json", tmp_path / "x.json")
    assert p.returncode == 2 and "not a FER2013 layout" in p.stderr
    assert not (tmp_path / "x.json").exists()
