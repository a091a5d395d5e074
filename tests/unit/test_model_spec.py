"""One model interface: every verb reads ``--model``, ``--precision`` and ``--tta`` alike, checks them before any
model or dataset loads, and a scikit-learn ``.joblib`` model is scored without torch."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from ferkit.config import EMOTIONS
from ferkit.errors import BadOptionError
from ferkit.expression.models import Classifier, check_model_spec, load_classifier
from tests.conftest import SOLVAY, run_cli

BAD_MODEL_OPTIONS = [
    ("evaluate", ("--tta", "11"), "--tta"),
    ("evaluate", ("--model", "nope"), "--model"),
    ("evaluate", ("--model", "missing.ckpt"), "missing.ckpt"),
    ("evaluate", ("--model", "default+missing.joblib"), "missing.joblib"),
    ("evaluate", ("--precision", "fp16"), "--precision"),
    ("teach", ("--tta", "-1"), "--tta"),
    ("teach", ("--model", "nope"), "--model"),
    ("ensemble", ("--tta-choices", "0,11"), "--tta-choices"),
    ("ensemble", ("--candidates", "default,nope"), "--candidates"),
]
REQUIRED = {
    "evaluate": ("--data", "no_such_data"),
    "teach": ("--data", "no_such_data", "--out", "t.npz"),
    "ensemble": ("--data", "no_such_data", "--json", "e.json", "--candidates", "default"),
}


@pytest.mark.parametrize("verb,args,named", BAD_MODEL_OPTIONS)
def test_model_options_are_checked_first_in_every_verb(verb, args, named, tmp_path, capsys):
    """Exit 2 with one line naming the option or file, before the (missing) dataset is read: no ONNX session asked
    for, nothing written."""
    from ferkit.cli.main import main
    from ferkit.utils.onnx import ort_session

    before = ort_session.cache_info()[:2]
    code = main([verb, *REQUIRED[verb], *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and named in err and "no_such_data" not in err, err
    assert ort_session.cache_info()[:2] == before


def test_every_spec_kind_gives_a_classifier():
    """Shipped names, an .onnx path and a+b ensembles resolve to the same protocol; views wrap them."""
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    from ferkit.expression.classifier import model_onnx_path

    onnx = str(model_onnx_path("ferkit_cnn_s"))
    plain = load_classifier("ferkit_cnn_s", precision="fp32")
    for spec in ("default", onnx, f"ferkit_cnn_s+{onnx}"):
        clf = load_classifier(spec, precision="fp32")
        assert isinstance(clf, Classifier) and clf.classes == EMOTIONS
        p = clf.predict_proba(faces)
        assert p.shape == (5, 7) and np.allclose(p.sum(1), 1, atol=1e-4)
    np.testing.assert_allclose(load_classifier(onnx).predict_proba(faces), plain.predict_proba(faces), atol=1e-6)
    both = load_classifier(f"ferkit_cnn_s+{onnx}", precision="fp32").predict_proba(faces)
    np.testing.assert_allclose(both, plain.predict_proba(faces), atol=1e-6)  # the mean of two equal members
    mirrored = load_classifier("ferkit_cnn_s", precision="fp32", views=2).predict_proba(faces)
    expect = (plain.predict_proba(faces) + plain.predict_proba(faces[:, :, ::-1].copy())) / 2
    np.testing.assert_allclose(mirrored, expect, atol=1e-6)
    with pytest.raises(BadOptionError, match="views per face"):
        load_classifier("default", views=11)
    with pytest.raises(BadOptionError, match="--model: unknown or untrained model .nope."):
        check_model_spec("default+nope")


def _solvay_faces(root) -> list[str]:
    """The Solvay photo's faces as grey crops in class folders (labels dealt in turn): a real folder dataset."""
    from ferkit.app.analyzer import Analyzer

    image = cv2.imread(str(SOLVAY))
    boxes = [f.box for f in Analyzer(calibrate=False)(image).faces]
    labels = []
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes).astype(int)):
        label = EMOTIONS[i % 3 + 3]  # happy, sad, surprise
        (root / label).mkdir(parents=True, exist_ok=True)
        crop = cv2.cvtColor(image[max(y1, 0) : y2, max(x1, 0) : x2], cv2.COLOR_BGR2GRAY)
        cv2.imwrite(str(root / label / f"{i:02d}.png"), cv2.resize(crop, (48, 48)))
        labels.append(label)
    return labels


def test_evaluate_a_joblib_model_without_torch(tmp_path):
    """A 1-nearest-neighbour model fitted on the Solvay faces scores 100% on them through `ferkit evaluate`, and the
    process never imports torch or Lightning."""
    import joblib

    from ferkit.data import load_dataset
    from ferkit.expression.classical import knn

    data = tmp_path / "faces"
    labels = _solvay_faces(data)
    ds = load_dataset("folder", data)
    assert len(ds.labels) == len(labels) == 29
    model = tmp_path / "knn.joblib"
    joblib.dump(knn(k=1).fit(ds.images, ds.labels), model)
    code = (
        "import sys; from ferkit.cli.main import main; "
        f"rc = main(['evaluate', '--model', {str(model)!r}, '--dataset', 'folder', '--data', {str(data)!r}]); "
        "print('TORCH' if {'torch', 'lightning'} & set(sys.modules) else 'NO_TORCH'); sys.exit(rc)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "NO_TORCH"
    assert '"accuracy": 1.0' in p.stdout and '"n": 29' in p.stdout


def test_train_precision_is_its_own_option():
    """`train --precision` is gone: `--precision` means a shipped model's ONNX copy everywhere."""
    p = run_cli("train", "--model", "ferkit_cnn_s", "--data", "x", "--out", "y", "--precision", "bf16-mixed")
    assert p.returncode == 2 and "unrecognized arguments: --precision" in p.stderr
