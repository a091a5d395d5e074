"""AP computation checked on hand-made boxes with a known answer; VOC reading on the shared face-mask photos."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.detection.metrics import average_precision, match_detections, precision_recall, recall_at_fppi


def test_ap_on_hand_made_boxes():
    gt = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([[0, 0, 10, 10]], float)]
    dets = [np.array([[0, 0, 10, 10], [0, 0, 10, 9], [50, 50, 60, 60]], float), np.array([[1, 0, 11, 10]], float)]
    scores = [np.array([0.9, 0.8, 0.7]), np.array([0.6])]
    s, tp, n = match_detections(gt, dets, scores)
    # ranked: 0.9 TP, 0.8 duplicate -> FP, 0.7 FP, 0.6 TP (IoU 9/11 > 0.5); 3 ground-truth faces.
    assert n == 3 and tp[np.argsort(-s)].tolist() == [True, False, False, True]
    p, r = precision_recall(s, tp, n)
    np.testing.assert_allclose(p, [1, 1 / 2, 1 / 3, 1 / 2])
    np.testing.assert_allclose(r, [1 / 3, 1 / 3, 1 / 3, 2 / 3])
    # envelope: precision 1 up to recall 1/3, then 1/2 up to 2/3, 0 beyond.
    assert average_precision(p, r) == pytest.approx(1 / 3 + 0.5 / 3)
    assert recall_at_fppi(s, tp, n, n_images=2, fppi=0.5) == pytest.approx(1 / 3)
    assert recall_at_fppi(s, tp, n, n_images=2, fppi=1.0) == pytest.approx(2 / 3)


def test_boxes_not_scored_are_neither_true_nor_false():
    """VOC's difficult boxes: a detection on one is left out; a detection elsewhere still counts as false."""
    gt, ignore = [np.array([[0, 0, 10, 10]], float)], [np.array([[20, 20, 30, 30]], float)]
    dets = [np.array([[20, 20, 30, 31], [0, 0, 10, 10], [50, 50, 60, 60]], float)]
    scores = [np.array([0.9, 0.8, 0.7])]
    s, tp, n = match_detections(gt, dets, scores, ignore=ignore)
    assert n == 1 and s.tolist() == [0.8, 0.7] and tp.tolist() == [True, False]
    assert average_precision(*precision_recall(s, tp, n)) == pytest.approx(1.0)
    s, tp, n = match_detections(gt, dets, scores)  # not set aside: the top detection is a false positive
    assert n == 1 and tp.tolist() == [False, True, False]
    assert average_precision(*precision_recall(s, tp, n)) == pytest.approx(0.5)


def test_perfect_detector_has_ap_1():
    gt = [np.array([[0, 0, 10, 10]], float)]
    s, tp, n = match_detections(gt, gt, [np.array([1.0])])
    assert average_precision(*precision_recall(s, tp, n)) == pytest.approx(1.0)
