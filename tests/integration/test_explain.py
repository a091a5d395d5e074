"""Grad-CAM: torch Grad-CAM on registry CNNs, CAM on ONNX models (equal for a GAP + linear head), `ferkit explain`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ferkit.data import FER2013
from ferkit.expression import create_model
from ferkit.expression.explain import OnnxCAM, grad_cam_torch
from ferkit.expression.export import export_onnx
from ferkit.expression.nets import WithPreprocessing
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def faces(fer_zip):
    return FER2013(fer_zip, "PublicTest").images[:6]


def test_onnx_cam_equals_torch_grad_cam(faces, tmp_path):
    torch.manual_seed(0)
    net = create_model("ferkit_cnn_s", num_classes=7).eval()
    path = export_onnx(WithPreprocessing(net, softmax=True).eval(), tmp_path / "m.onnx")
    maps_onnx, probs_onnx = OnnxCAM(path)(faces)
    maps_torch, probs_torch = grad_cam_torch(WithPreprocessing(net, softmax=False), faces)
    assert maps_onnx.shape == maps_torch.shape == (6, 48, 48)
    assert np.allclose(probs_onnx, probs_torch, atol=1e-4)
    diff = np.abs(maps_onnx - maps_torch)
    assert diff.max() < 0.05 and diff.mean() < 0.002  # BN folded into the convs in ONNX: float rounding only
    assert maps_onnx.min() >= 0 and np.allclose(maps_onnx.reshape(6, -1).max(1), 1, atol=1e-5)


@pytest.mark.parametrize("name", ["simple_cnn", "thesis_cnn", "resnet18_fc"])
def test_grad_cam_on_registry_cnns(faces, name):
    torch.manual_seed(0)
    net = WithPreprocessing(create_model(name, num_classes=7), softmax=False)
    maps, probs = grad_cam_torch(net, faces[:2])
    assert maps.shape == (2, 48, 48) and 0 <= maps.min() and maps.max() <= 1
    assert np.allclose(probs.sum(1), 1, atol=1e-4)


def test_explain_cli_on_a_demo_photo(demo, tmp_path):
    run_cli("explain", demo / "laos.jpg", "--out", tmp_path, check=True)
    recs = json.loads((tmp_path / "laos_gradcam.json").read_text())
    assert len(recs) == 2
    for r in recs:
        assert (tmp_path / f"laos_face{r['face']}_gradcam.png").stat().st_size > 1000
        assert all(0.2 < c < 0.8 for c in r["heat_centre"])  # the heat sits on the face, not on the crop's border
    assert (tmp_path / "laos_gradcam.png").exists()
