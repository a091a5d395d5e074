"""Face detectors on the demo photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ferkit.detection import create_detector
from ferkit.detection.nms import box_iou
from ferkit.errors import UnknownNameError
from ferkit.utils.io import read_image
from tests.conftest import REPO


@pytest.fixture(scope="module")
def mtcnn():
    return create_detector("mtcnn")


@pytest.mark.parametrize(
    "name,found,landmarks",
    [  # faces found, measured (29 people; Haar and dlib's HOG miss the smallest)
        ("yunet", 29, (5, 2)),
        ("yunet_masks", 29, (5, 2)),
        ("haar", 28, None),
        ("dlib_hog", 26, (3, 2)),
        ("mediapipe_tiled", 29, (6, 2)),
        ("yunet_masks_ms", 29, (5, 2)),
    ],
)
def test_backends_find_the_solvay_faces(demo, name, found, landmarks):
    """Every backend fast enough for a group photo: the faces it was measured to find of the 29, none on the lower
    (no-face) half."""
    faces = create_detector(name).detect(read_image(demo / "Solvay_conference_1927.jpg"))
    assert len(faces) == found
    assert max((f.box[1] + f.box[3]) / 2 for f in faces) < 230
    for f in faces:
        assert (f.landmarks is None) if landmarks is None else f.landmarks.shape == landmarks
        assert 0.0 < f.box[2] - f.box[0] < 60


@pytest.mark.parametrize("name", ["dlib_cnn", "mediapipe"])
def test_close_range_backends_on_demo_photos(demo, name):
    """dlib's CNN (too slow for the 1024 px group photo in a test) and BlazeFace without tiles (made for faces
    that fill a good part of the frame) on photos of two people."""
    det = create_detector(name)
    for photo in ("laos.jpg", "two_people.jpg"):
        faces = det.detect(read_image(demo / photo))
        assert len(faces) == 2
        assert all(f.landmarks is not None and f.score > 0.5 for f in faces)


def test_mtcnn_finds_the_solvay_faces(mtcnn, demo):
    """29 people, many faces ~25 px wide: all 29 found, and no box on the lower (no-face) half."""
    faces = mtcnn.detect(read_image(demo / "Solvay_conference_1927.jpg"))
    assert len(faces) == 29
    centres_y = [(f.box[1] + f.box[3]) / 2 for f in faces]
    assert max(centres_y) < 230  # every face is in the upper part of the photo: boxes below are false
    widths = [f.box[2] - f.box[0] for f in faces]
    assert np.median(widths) < 40


@pytest.mark.parametrize(
    "name,count",
    [
        ("laos.jpg", 2),
        ("two_people.jpg", 2),
        ("astronaut.png", 1),
        ("woman_portrait.jpg", 1),
        ("city_portrait.jpg", 1),
        ("model_face.jpg", 1),
    ],
)
def test_mtcnn_counts_on_demo_photos(mtcnn, demo, name, count):
    faces = mtcnn.detect(read_image(demo / name))
    assert len(faces) == count
    for f in faces:
        assert f.landmarks.shape == (5, 2)
        x1, y1, x2, y2 = f.box
        assert x1 <= f.landmarks[:, 0].min() and f.landmarks[:, 0].max() <= x2  # landmarks inside the box
        assert 0.95 <= f.score <= 1.0


def test_no_face_gives_zero_faces(mtcnn, demo):
    img = read_image(demo / "Solvay_conference_1927.jpg")
    assert mtcnn.detect(img[420:, :]) == []  # the pavement below the sitters


def test_haar_backend(demo):
    faces = create_detector("haar").detect(read_image(demo / "laos.jpg"))
    assert len(faces) == 2


def test_fine_tuned_yunet_by_path(demo, tmp_path):
    """A user's fine-tuned YuNet (a `train-detector --model yunet` run folder or its .onnx file) works as
    --detector PATH: it detects like the same weights shipped, goes by its path, and is framed by its card."""
    import json
    import shutil

    from ferkit.config import CROP_SCALE, CROP_SHIFT
    from ferkit.detection.yunet import YUNET_MASKS_ONNX
    from ferkit.face.preprocess import Framing
    from tests.conftest import run_cli

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(YUNET_MASKS_ONNX, run / "yunet.onnx")
    img = read_image(demo / "laos.jpg")
    shipped = create_detector("yunet_masks").detect(img)
    mine = create_detector(str(run))
    assert mine.name == str(run / "yunet.onnx") and Framing.of(mine.name) == Framing(1.0, 0.0)  # no card: box as is
    assert np.allclose([d.box for d in mine.detect(img)], [d.box for d in shipped])
    framing = {"crop_scale": CROP_SCALE["yunet_masks"], "crop_shift": CROP_SHIFT["yunet_masks"]}
    (run / "card.json").write_text(json.dumps(framing))
    assert Framing.of(str(run / "yunet.onnx")) == Framing.of("yunet_masks")
    out = tmp_path / "out"
    run_cli("analyze", demo / "laos.jpg", "--detector", run / "yunet.onnx", "--out", out, check=True)
    assert len(json.loads((out / "results.json").read_text())) == 2
    with pytest.raises(UnknownNameError, match="fine-tuned YuNet"):
        create_detector(str(tmp_path / "nothing_here"))


@pytest.mark.parametrize(
    "flip,sides,fusion",
    [(True, 640, "wbf"), (False, (640, 960), "nms"), (True, (640, 800), "wbf"), (False, (640, 800), "wbf")],
)
def test_yunet_views_find_the_same_faces(demo, flip, sides, fusion):
    """Mirrored and multi-scale views (fused) find the faces one view finds, boxes within a few pixels, and the
    mirrored view's landmarks come back in the image's order (left eye first)."""
    from ferkit.detection.yunet import YuNet

    img = read_image(demo / "Solvay_conference_1927.jpg")
    one = YuNet(input_side=640).detect(img)
    many = YuNet(input_side=sides, flip=flip, fusion=fusion).detect(img)
    assert len(many) == len(one) == 29
    iou = box_iou(np.array([f.box for f in one]), np.array([f.box for f in many]))
    assert (iou.max(1) > 0.7).mean() >= 0.9
    for f in YuNet(input_side=sides, flip=flip, fusion=fusion).detect(read_image(demo / "laos.jpg")):
        assert f.landmarks[0, 0] < f.landmarks[1, 0] and f.landmarks[3, 0] < f.landmarks[4, 0]


@pytest.mark.parametrize("name", ["yunet", "yunet_masks", "mtcnn", "dlib_hog", "mediapipe"])
def test_landmark_convention(demo, name):
    """Rows 0 and 1 are the eye centres, image-left first: crops are aligned from them (a swapped order would turn
    faces upside down). Both faces of laos.jpg are upright and frontal."""
    faces = create_detector(name).detect(read_image(demo / "laos.jpg"))
    assert len(faces) == 2
    for f in faces:
        (lx, ly), (rx, ry) = f.landmarks[0], f.landmarks[1]
        assert lx < rx and abs(np.degrees(np.arctan2(ry - ly, rx - lx))) < 20
        x1, y1, x2, y2 = f.box
        assert y1 < ly < (y1 + y2) / 2 + 0.1 * (y2 - y1)  # eyes in the upper half of the box


@pytest.mark.parametrize("photo", ["Solvay_conference_1927.jpg", "two_people.jpg", "laos.jpg"])
def test_yunet_onnx_matches_the_library(demo, photo):
    """The shipped ONNX YuNet (weights read out of libfacedetection) finds the faces the compiled library finds,
    with the same scores (the library truncates them to 0.01) and boxes (it truncates them to pixels)."""
    pytest.importorskip("yuface", reason="the library is in the yuface extra")
    img = read_image(demo / photo)
    lib, ours = (
        create_detector("yunet_lib", min_score=0.5).detect(img),
        create_detector("yunet", min_score=0.5).detect(img),
    )
    assert len(ours) == len(lib) > 0
    iou = box_iou(np.array([d.box for d in lib]), np.array([d.box for d in ours]))
    pair = iou.argmax(1)
    assert len(set(pair)) == len(lib) and iou.max(1).min() > 0.75
    assert max(abs(d.score - ours[j].score) for d, j in zip(lib, pair)) <= 0.0101


def test_yunet_memory_stays_flat(demo):
    """The detector must not keep memory per call (a build of the same library leaks a copy of every frame)."""
    import os

    def rss_mb() -> float:  # current resident memory (Linux)
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    det = create_detector("yunet")
    frame = cv2.resize(read_image(demo / "Solvay_conference_1927.jpg"), (640, 480))
    for _ in range(20):
        det.detect(frame)
    before = rss_mb()
    for _ in range(200):
        det.detect(frame)
    grown_mb = rss_mb() - before
    assert grown_mb < 40  # a 0.9 MB-per-frame leak would add ~180 MB


def test_detection_report_keeps_rows_of_backends_without_weights(shared, tmp_path):
    """A backend whose trained weights are not on this machine keeps its row of the previous report, flagged, and
    keeps it again when the report is written a second time on such a machine."""
    import json
    import shutil

    from ferkit.detection.faster_rcnn import DEFAULT_WEIGHTS
    from lab.detection_report import detection_report

    if DEFAULT_WEIGHTS.exists():
        pytest.skip("a Faster R-CNN is trained on this machine: its rows are measured, not carried over")
    out = tmp_path / "detection.json"
    shutil.copy(REPO / "reports" / "detection.json", out)
    before = next(
        r for r in json.loads(out.read_text())["rows"] if (r["detector"], r["dataset"]) == ("faster_rcnn", "dlib_faces")
    )
    for _ in range(2):
        rows = detection_report({"dlib_faces": str(shared / "dlib_faces_boxes.tar")}, out, detectors=["faster_rcnn"])[
            "rows"
        ]
        assert len(rows) == 1 and rows[0]["carried_over"] and rows[0]["ap50"] == before["ap50"]
    assert "(*) Carried over" in out.with_suffix(".md").read_text()
