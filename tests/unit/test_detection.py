"""Face detectors on the demo photos."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.detection import create_detector
from ferkit.detection.nms import box_iou, fuse_views, nms
from ferkit.errors import UnknownNameError
from tests.conftest import REPO


def test_default_detector_is_yunet_masks():
    assert create_detector("default").name == "yunet_masks"


def test_unknown_detector():
    with pytest.raises(UnknownNameError, match="unknown detector 'yolo'"):
        create_detector("yolo")


def test_nms_and_iou_on_known_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [2, 2, 6, 6]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    assert box_iou(boxes[:1], boxes[1:2])[0, 0] == pytest.approx(81 / 119)
    assert list(nms(boxes, scores, 0.5)) == [0, 2, 3]
    assert list(nms(boxes, scores, 0.5, mode="min")) == [0, 2]


def test_view_fusion_on_known_boxes():
    """Two views: a face both found fuses to the score-weighted mean box at their mean score; a face one view
    found keeps its box at half its score."""
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    points = np.zeros((3, 5, 2), np.float32) + np.array([0, 2, 50], np.float32)[:, None, None]
    b, s, p = fuse_views(boxes, scores, points, 2, 0.55)
    np.testing.assert_allclose(b, [[0.8, 0, 10.8, 10], [50, 50, 60, 60]], atol=1e-5)
    np.testing.assert_allclose(s, [0.75, 0.4], atol=1e-6)
    np.testing.assert_allclose(p[:, 0, 0], [0.8, 50], atol=1e-5)
    assert len(fuse_views(boxes[:0], scores[:0], points[:0], 2, 0.55)[0]) == 0


def test_multi_view_backend_runs_the_views_chosen_on_validation():
    """yunet_masks_ms runs the views reports/yunet_views.json chose: the best validation AP50 within its speed goal."""
    import json

    from ferkit.config import YUNET_MASKS_MS_VIEWS

    report = json.loads((REPO / "reports" / "yunet_views.json").read_text())
    fast = [r for r in report["rows"] if r["ms_per_frame"] <= report["speed_goal_ms"]]
    best = max(fast, key=lambda r: r["val_ap50"])
    assert {k: best[k] for k in ("sides", "flip", "fusion")} == {
        k: report["chosen"][k] for k in ("sides", "flip", "fusion")
    }
    assert list(YUNET_MASKS_MS_VIEWS["sides"]) == best["sides"]
    assert (YUNET_MASKS_MS_VIEWS["flip"], YUNET_MASKS_MS_VIEWS["fusion"]) == (best["flip"], best["fusion"])
    det = create_detector("yunet_masks_ms")
    assert det.name == "yunet_masks_ms" and tuple(det.sides) == tuple(best["sides"])
