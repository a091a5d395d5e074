"""Real photos: faces that fill the frame, face crops as input, the crowd calibration and the labelled photos."""

from __future__ import annotations

import numpy as np

from ferkit.app.analyzer import Analyzer
from ferkit.expression.calibration import Calibration
from tests.conftest import REPO


def test_configured_choices_are_the_reported_ones():
    """config TEMPLATE_ZOOM, TEMPLATE_MIN_FACE and the shipped calibration are what
    scripts/select_crop_and_calibration.py chose; FACE_TEMPLATE is what scripts/measure_framing.py measured."""
    import json

    from ferkit.config import FACE_TEMPLATE, TEMPLATE_MIN_FACE, TEMPLATE_ZOOM

    reports = REPO / "reports"
    rep = json.loads((reports / "calibration.json").read_text())
    cal = Calibration.of("ferkit_cnn_m2_kd")
    assert (rep["chosen_template_zoom"], rep["template_min_face"]) == (TEMPLATE_ZOOM, TEMPLATE_MIN_FACE)
    framing = json.loads((reports / "face_framing_yunet_masks.json").read_text())
    assert framing["landmark_template_48"] == [list(p) for p in FACE_TEMPLATE]
    assert (rep["chosen_prior_weight"], rep["uncertain_below"]) == (cal.prior_weight, cal.uncertain_below)
    assert list(cal.scale) == rep["scale"] and list(cal.bias) == rep["bias"]


def test_template_crop_puts_landmarks_on_the_template():
    """A face's 5 landmarks, moved by a known rotation, scale and shift, come back onto FER2013's template."""
    from ferkit.detection.base import Detection
    from ferkit.face.preprocess import Framing, crop_faces, similarity_transform, template_points

    t = template_points(48, 1.0)
    a = np.deg2rad(20)
    rot = 3.0 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    marks = t @ rot.T + [100, 60]
    m = similarity_transform(marks, t)
    assert np.abs(np.c_[marks, np.ones(5)] @ m.T - t).max() < 1e-6
    img = np.zeros((400, 400), np.uint8)
    for x, y in marks.round().astype(int):
        img[y - 2 : y + 3, x - 2 : x + 3] = 255
    crop = crop_faces(img, [Detection(np.array([0, 0, 1, 1], np.float32), 1.0, marks)], Framing(template=1.0))[0]
    for x, y in t.round().astype(int):
        assert crop[y, x] > 128


def test_solvay_still_29_faces_no_false_box():
    """The bundled 1927 group photo: the default detector (with its zoomed-out view) finds the 29 faces, no two boxes
    on one face and none below the faces' rows; every face labelled, its probabilities summing to 1."""
    from ferkit.app.bench import EXAMPLE_PHOTO
    from ferkit.detection.nms import box_iou as iou

    faces = Analyzer()(EXAMPLE_PHOTO).faces
    boxes = np.array([f.box for f in faces])
    overlap = iou(boxes, boxes)
    np.fill_diagonal(overlap, 0)
    assert len(faces) == 29 and overlap.max() < 0.1
    assert max((b[1] + b[3]) / 2 for b in boxes) < 230 and all(b[2] - b[0] < 60 for b in boxes)
    assert all(abs(sum(f.probabilities.values()) - 1) < 1e-3 and f.uncertain is not None for f in faces)
