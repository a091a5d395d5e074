"""YuNet fine-tuned on the face-mask photos: the shipped yunet_masks detector against the pretrained one on the
same held-out photos, and the fine-tuning command's split, resume and output on real photos."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ferkit.data.voc import held_out, load_voc
from ferkit.detection import create_detector
from ferkit.detection.evaluate import evaluate_detector
from ferkit.utils.io import read_image

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def face_mask(shared):
    return load_voc(shared / "face_mask_detection_subset300.tar")


def test_yunet_masks_beats_the_pretrained_yunet_on_held_out_photos(face_mask, shared):
    tuned = evaluate_detector("yunet_masks", face_mask)
    test = held_out([i.name for i in face_mask])
    assert tuned["excluded_training_images"] == 200 and tuned["n_images"] == len(test) == 100
    assert tuned["ranking_floor"] == 0.05  # a YuNet under any name is ranked like YuNet
    pretrained = evaluate_detector("yunet", [i for i in face_mask if i.name in test])
    # as measured (reports/detection.md): 0.8659 vs 0.7454 on the held-out third; 1.000 on the dlib faces
    assert tuned["ap50"] == pytest.approx(0.8659, abs=0.002) and pretrained["ap50"] == pytest.approx(0.7454, abs=0.002)
    assert evaluate_detector("yunet_masks", shared / "dlib_faces_boxes.tar")["ap50"] == 1.0  # no loss elsewhere


def test_detector_benchmarks_score_a_face_mask_sets_held_out_third_only(face_mask, shared):
    """The photos the detector was fine-tuned on stay out of every benchmark of it; other box sets count whole."""
    from ferkit.data.voc import benchmark_items

    names = sorted(i.name for i in benchmark_items(shared / "face_mask_detection_subset300.tar"))
    assert names == sorted(held_out([i.name for i in face_mask])) and len(names) == 100
    dlib = shared / "dlib_faces_boxes.tar"
    assert [i.name for i in benchmark_items(dlib)] == [i.name for i in load_voc(dlib)]


def test_exported_yunet_weights_round_trip(tmp_path, demo):
    """The shipped ONNX file loads into the PyTorch net and exports back to the same detections."""
    from ferkit.detection.yunet import YUNET_ONNX, YuNet
    from ferkit.detection.yunet_net import export_onnx, load_onnx_weights

    export_onnx(load_onnx_weights(YUNET_ONNX), tmp_path / "again.onnx")
    img = read_image(demo / "Solvay_conference_1927.jpg")
    a, b = YuNet().detect(img), YuNet(model=tmp_path / "again.onnx").detect(img)
    assert len(a) == len(b) >= 27
    np.testing.assert_allclose([f.box for f in a], [f.box for f in b], atol=0.05)


def test_stride4_level_keeps_the_other_levels_and_exports(tmp_path, demo, face_mask):
    """The stride-4 copy of the shipped YuNet: the same 8/16/32 maps, a 4-level ONNX file that YuNet decodes, and
    still the faces of the Solvay photo (its new level starts as a copy of the stride-8 one)."""
    from ferkit.detection.yunet import YUNET_ONNX, YuNet, level_strides
    from ferkit.detection.yunet_net import add_stride4, export_onnx, load_onnx_weights

    net = load_onnx_weights(YUNET_ONNX).eval()
    p4 = add_stride4(net).eval()
    assert p4.strides == (4, 8, 16, 32) and level_strides(16) == p4.strides and level_strides(12) == net.strides
    import cv2

    x = torch.from_numpy(cv2.resize(read_image(demo / "laos.jpg"), (640, 480)))[None]
    with torch.no_grad():
        a, b = net(x), p4(x)
    assert len(b) == 16 and b[0].shape[2:] == (120, 160) and all(torch.equal(u, v) for u, v in zip(a, b[4:]))
    export_onnx(p4, tmp_path / "p4.onnx")
    assert load_onnx_weights(tmp_path / "p4.onnx").stride4  # read back as a 4-level net
    img = read_image(demo / "Solvay_conference_1927.jpg")
    assert len(YuNet(model=tmp_path / "p4.onnx").detect(img)) == 29  # all 29, as the 3-level net
    from ferkit.detection.yunet_train import train_yunet

    train_yunet(face_mask[:18], tmp_path / "run", epochs=1, stride4=True)  # `train-detector --stride4`
    assert json.loads((tmp_path / "run" / "card.json").read_text())["stride4"]
    assert train_yunet(face_mask[:18], tmp_path / "run", epochs=2)["epochs_done"] == 2  # resumed: still stride 4
    assert json.loads((tmp_path / "run" / "card.json").read_text())["stride4"]
    assert load_onnx_weights(tmp_path / "run" / "yunet.onnx").stride4


def test_fine_tuning_splits_resumes_and_writes_a_detector(face_mask, tmp_path, demo):
    from ferkit.detection.yunet import YuNet
    from ferkit.detection.yunet_train import train_yunet

    items = face_mask[:18]  # 6 held out for testing; of the other 12, 2 validate and 10 train
    out = tmp_path / "run"
    first = train_yunet(items, out, epochs=2, max_minutes=1e-6)  # stops after epoch 1, as a killed run would
    assert first["epochs_done"] == 1 and not first["full_recipe"]
    done = train_yunet(items, out, epochs=2)
    assert done["epochs_done"] == 2 and done["full_recipe"]
    history = [json.loads(line) for line in (out / "epochs.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [0, 1, 2]
    card = json.loads((out / "card.json").read_text())
    test = held_out([i.name for i in items])
    assert len(card["trained_on"]) == 10 and len(card["validated_on"]) == 2 and card["held_out_images"] == 6
    assert not (set(card["trained_on"]) | set(card["validated_on"])) & test
    assert not set(card["trained_on"]) & set(card["validated_on"])
    assert card["best_epoch"] == max(history, key=lambda h: h["val_ap50"])["epoch"]
    det = YuNet(model=out / "yunet.onnx")
    assert det.name == str(out / "yunet.onnx") and YuNet().name == "yunet"  # a given file goes by its path
    assert det.trained_on == set(card["trained_on"]) | set(card["validated_on"])
    assert len(det.detect(read_image(demo / "laos.jpg"))) == 2
    final = train_yunet(items, tmp_path / "final", epochs=1, final=True)  # the validation images trained on too
    card = json.loads((tmp_path / "final" / "card.json").read_text())
    assert final["best_epoch"] == 1 and final["validation_ap50"] is None and card["final"]
    assert len(card["trained_on"]) == 12 and not card["validated_on"] and not set(card["trained_on"]) & test
    assert len(YuNet(model=tmp_path / "final" / "yunet.onnx").detect(read_image(demo / "laos.jpg"))) == 2


def _crop_differences(img: np.ndarray) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(faces found by yunet, by yunet_masks, and per face matched by IoU > 0.3: the mean pixel difference of
    yunet_masks' crops to yunet's with the configured framing, and with the scale alone (unshifted))."""
    from ferkit.detection.nms import box_iou
    from ferkit.face.preprocess import Framing, crop_faces

    ref, tuned = create_detector("yunet").detect(img), create_detector("yunet_masks").detect(img)
    iou = box_iou(np.array([d.box for d in ref]), np.array([d.box for d in tuned]))
    pairs = [(ref[i], tuned[int(iou[i].argmax())]) for i in range(len(ref)) if iou[i].max() > 0.3]
    want = crop_faces(img, [r for r, _ in pairs], Framing.of("yunet")).astype(float)
    ours = [t for _, t in pairs]
    diff = lambda framing: np.abs(crop_faces(img, ours, framing) - want).mean((1, 2))  # noqa: E731
    return len(ref), len(tuned), diff(Framing.of("yunet_masks")), diff(Framing(Framing.of("yunet_masks").scale))


@pytest.mark.parametrize("photo", ["laos.jpg", "two_people.jpg"])
def test_yunet_masks_crops_are_framed_like_the_default(demo, photo):
    """yunet_masks' boxes sit lower and tighter (the face-mask photos' convention); its framing (config CROP_SCALE,
    CROP_SHIFT) brings its crops back to the default detector's, which match FER2013's framing."""
    n_ref, n_tuned, framed, unshifted = _crop_differences(read_image(demo / photo))
    assert n_ref == n_tuned == len(framed) == 2
    assert framed.mean() < unshifted.mean()  # two_people.jpg: 30.0 vs 34.9 mean pixel difference


def test_yunet_masks_framing_brings_group_photo_crops_to_the_default(demo):
    """The same check over the 45 faces of the two group photos: with the configured shift, yunet_masks' crops
    are at least 15% closer (mean pixel difference) to the default detector's than unshifted, and closer for most
    faces. (Measured: Solvay 30.4 vs 40.2, classroom 18.3 vs 27.1, closer for 80% of faces; the 15% and 70%
    bounds were set after that measurement, below the margins seen, to catch a framing that stops helping.)"""
    found = [
        _crop_differences(read_image(demo / p)) for p in ("Solvay_conference_1927.jpg", "classroom_in_tanzania.jpg")
    ]
    framed, unshifted = (np.concatenate([f[k] for f in found]) for k in (2, 3))
    assert len(framed) >= 40
    assert framed.mean() < 0.85 * unshifted.mean() and (framed < unshifted).mean() >= 0.7


def test_augmentations_keep_boxes_on_their_faces(face_mask):
    """Copy-paste, crop and colour jitter (all on): every box stays inside the image, pasted faces overlap no
    face already there and has the size asked for, the image keeps its type."""
    import random

    from ferkit.config import YUNET_FINETUNE
    from ferkit.detection.nms import box_iou
    from ferkit.detection.yunet_train import _augment, _paste_faces

    rng, pasted = random.Random(0), 0
    for item in face_mask[:20]:
        img, boxes = _paste_faces(
            item.image, item.boxes.reshape(-1, 4).astype(np.float32), face_mask[20:40], rng, 4, (8, 40)
        )
        new = boxes[len(item.boxes) :]
        assert img.shape == item.image.shape and img.dtype == np.uint8
        pasted += len(new)
        if not len(new):  # a crowd may leave no room
            continue
        assert (new[:, :2] >= 0).all() and (new[:, 2] <= img.shape[1]).all() and (new[:, 3] <= img.shape[0]).all()
        assert box_iou(new, item.boxes.reshape(-1, 4).astype(np.float32)).max() == 0
        assert (
            (np.maximum(new[:, 2] - new[:, 0], new[:, 3] - new[:, 1]) >= 7.5)
            & (np.maximum(new[:, 2] - new[:, 0], new[:, 3] - new[:, 1]) <= 40.5)
        ).all()
        cfg = dict(YUNET_FINETUNE["augment"])
        try:
            YUNET_FINETUNE["augment"].update(paste=1.0, crop=1.0, jitter=1.0)
            out, kept = _augment(item.image, item.boxes.reshape(-1, 4).astype(np.float32), rng, face_mask[20:40])
        finally:
            YUNET_FINETUNE["augment"].update(cfg)
        h, w = out.shape[:2]
        assert out.dtype == np.uint8 and len(kept) >= 1 and h <= item.image.shape[0] and w <= item.image.shape[1]
        assert (kept >= 0).all() and (kept[:, [0, 2]] <= w).all() and (kept[:, [1, 3]] <= h).all()
        assert ((kept[:, 2] > kept[:, 0]) & (kept[:, 3] > kept[:, 1])).all()
    assert pasted >= 30  # of up to 80
