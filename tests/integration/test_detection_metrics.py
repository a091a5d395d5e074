"""AP computation checked on hand-made boxes with a known answer; VOC reading on the shared face-mask photos."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ferkit.detection.metrics import average_precision, match_detections, precision_recall
from tests.conftest import run_cli, run_lab


def test_voc_difficult_objects_are_set_aside(shared, tmp_path):
    """A face-mask photo's annotation with one object flagged difficult: that box moves to ``ignore``."""
    import tarfile

    from ferkit.data.voc import load_voc

    with tarfile.open(shared / "face_mask_detection_subset300.tar") as tar:
        xml = next(m for m in tar.getmembers() if m.name.endswith("maksssksksss0.xml"))
        jpg = next(m for m in tar.getmembers() if m.name.endswith("maksssksksss0.jpg"))
        text, image = tar.extractfile(xml).read().decode(), tar.extractfile(jpg).read()
    (tmp_path / jpg.name.rsplit("/", 1)[-1]).write_bytes(image)
    (tmp_path / "a.xml").write_text(text.replace("<difficult>0</difficult>", "<difficult>1</difficult>", 1))
    plain = load_voc(shared / "face_mask_detection_subset300.tar")
    want = next(i for i in plain if i.name == jpg.name.rsplit("/", 1)[-1])
    got = load_voc(tmp_path)[0]
    assert len(want.boxes) >= 2 and len(want.ignore) == 0
    assert len(got.boxes) == len(want.boxes) - 1 and np.allclose(got.ignore, want.boxes[:1])
    assert np.allclose(got.boxes, want.boxes[1:]) and got.labels == want.labels[1:]


def test_voc_reader_on_face_mask_photos(shared):
    from ferkit.data.voc import load_voc

    items = load_voc(shared / "face_mask_detection_subset300.tar")
    assert len(items) == 300 and sum(len(i.boxes) for i in items) == 1499
    assert {lab for i in items for lab in i.labels} == {"con_mascarilla", "sin_mascarilla", "mascarilla_mal_puesta"}
    first = items[0]
    assert first.image.ndim == 3 and (first.boxes[:, 2] <= first.image.shape[1] + 1).all()


def test_dlib_imglab_boxes(shared):
    from ferkit.data.voc import load_voc

    items = load_voc(shared / "dlib_faces_boxes.tar")
    assert len(items) == 9 and sum(len(i.boxes) for i in items) == 43  # training 18 + testing 25
    assert all(len(i.ignore) == 0 for i in items)


def test_imglab_ignore_boxes_are_set_aside(shared, tmp_path):
    import cv2

    from ferkit.data.voc import load_voc

    it = load_voc(shared / "dlib_faces_boxes.tar")[0]
    cv2.imwrite(str(tmp_path / it.name), it.image)
    boxes = "".join(
        f"<box top='{y1:g}' left='{x1:g}' width='{x2 - x1:g}' height='{y2 - y1:g}'{extra}/>"
        for (x1, y1, x2, y2), extra in zip(it.boxes, [" ignore='1'"] + [""] * len(it.boxes))
    )
    (tmp_path / "faces.xml").write_text(f"<dataset><images><image file='{it.name}'>{boxes}</image></images></dataset>")
    got = load_voc(tmp_path)[0]
    assert np.allclose(got.ignore, it.boxes[:1]) and np.allclose(got.boxes, it.boxes[1:])


def test_wider_face_list(shared, tmp_path):
    """A miniature in WIDER FACE's layout, built from the dlib faces: same boxes back; invalid boxes set aside."""
    import cv2

    from ferkit.data.voc import load_voc

    dlib = load_voc(shared / "dlib_faces_boxes.tar")[:3]
    lines = []
    for k, it in enumerate(dlib):
        rel = f"{k}--Event/{it.name}"
        (tmp_path / "WIDER_val" / "images" / f"{k}--Event").mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "WIDER_val" / "images" / rel), it.image)
        lines += [rel, str(len(it.boxes) + 1)]
        lines += [f"{x1:g} {y1:g} {x2 - x1:g} {y2 - y1:g} 0 0 0 0 0 0" for x1, y1, x2, y2 in it.boxes]
        lines.append("1 1 5 5 0 0 0 1 0 0")  # flagged invalid
    (tmp_path / "wider_face_split").mkdir()
    (tmp_path / "wider_face_split" / "wider_face_val_bbx_gt.txt").write_text("\n".join(lines) + "\n")
    items = load_voc(tmp_path)
    assert [i.name for i in items] == [i.name for i in dlib]
    for got, want in zip(items, dlib):
        assert np.allclose(got.boxes, want.boxes) and got.image.shape == want.image.shape
        assert np.allclose(got.ignore, [[1, 1, 6, 6]])


def test_detect_eval_cli(shared, tmp_path):
    out = tmp_path / "dlib.json"
    run_cli(
        "detect-eval", "--detector", "default", "--data", shared / "dlib_faces_boxes.tar", "--json", out, check=True
    )
    rep = json.loads(out.read_text())
    assert rep["n_images"] == 9 and rep["n_boxes"] == 43 and rep["ms_per_frame"] > 0
    assert rep["ap50"] == 1.0  # reports/detect_eval_default_dlib_faces_boxes.json
    assert (tmp_path / "dlib_pr.png").exists() and (tmp_path / "dlib.md").exists()


def test_report_detection_command(shared, tmp_path):
    """`python -m lab report detection` on the dlib faces with two backends: rows, default, PR picture, Markdown
    twin."""
    out = tmp_path / "detection.json"
    run_lab(
        "report",
        "detection",
        "--box-data",
        f"dlib_faces={shared / 'dlib_faces_boxes.tar'}",
        "--detectors",
        "yunet_masks,haar",
        "--out",
        out,
        check=True,
    )
    rep = json.loads(out.read_text())
    assert rep["default_detector"] == "yunet_masks"
    rows = {r["detector"]: r for r in rep["rows"]}
    assert set(rows) == {"yunet_masks", "haar"} and all(
        r["n_boxes"] == 43 and r["n_images"] == 9 for r in rows.values()
    )
    assert rows["yunet_masks"]["ap50"] == 1.0 and rows["haar"]["ap50"] == pytest.approx(0.8147, abs=0.002)
    assert (tmp_path / "detection_pr_dlib_faces.png").stat().st_size > 5000
    md = out.with_suffix(".md").read_text()
    assert f"| yunet_masks (default) | dlib_faces | {rows['yunet_masks']['ap50']:.3f} |" in md


def test_detect_eval_ranks_below_the_operating_threshold(shared):
    """AP ranks YuNet's boxes down to its ranking floor; the operating-point figures are those of the detector at
    its own threshold, which is restored afterwards (on the face-mask photos' first 40 images)."""
    from ferkit.config import DETECTION_RANKING_FLOOR
    from ferkit.data.voc import load_voc
    from ferkit.detection.evaluate import evaluate_detector
    from ferkit.detection.registry import create_detector

    items = load_voc(shared / "face_mask_detection_subset300.tar")[:40]
    det = create_detector("yunet")
    operating = det.min_score
    rep = evaluate_detector(det, items)
    assert det.min_score == operating == rep["operating_threshold"]
    assert rep["ranking_floor"] == DETECTION_RANKING_FLOOR[det.score_scale] < operating
    found = [det.detect(i.image) for i in items]
    s, tp, n = match_detections(
        [i.boxes for i in items],
        [np.array([f.box for f in d], float).reshape(-1, 4) for d in found],
        [np.array([f.score for f in d]) for d in found],
    )
    assert rep["n_detections"] > len(s)  # boxes below the operating threshold were ranked too
    assert rep["precision_at_operating"] == pytest.approx(tp.mean(), abs=1e-4)
    assert rep["recall_at_operating"] == pytest.approx(tp.sum() / n, abs=1e-4)
    p, r = precision_recall(s, tp, n)
    assert rep["ap50"] >= average_precision(p, r)  # the longer ranking can only add area
