"""Fine-tune YuNet on VOC face boxes (``ferkit train-detector --model yunet``; needs the ``train`` extra).

Paper 002 fine-tuned a pretrained detector on ~1,000 annotated faces; here the pretrained detector is YuNet
(libfacedetection's weights, trained on WIDER FACE) and the boxes are a VOC set such as the face-mask photos.
Every third image (sorted by name, as for the Faster R-CNN) is held out for testing and never seen; of the
others, every fifth is a validation image that picks the epoch; the rest are trained on. Targets: the annotated
boxes, assigned to feature-map points SimOTA-style (candidates near the box centre, the k lowest-cost ones, k from
their IoUs); losses: objectness and IoU-aware class BCE, GIoU on boxes, and the pretrained net's own landmarks as
targets (the boxes carry none), so landmarks stay what alignment expects. Resumable after every epoch."""

from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ferkit.config import YUNET_FINETUNE
from ferkit.data.voc import BoxedImage, load_voc, train_val_test
from ferkit.errors import FerkitError
from ferkit.utils.io import atomic_path, copy_atomic, write_json_atomic, write_text_atomic
from ferkit.utils.reports import command_line

from .nms import box_area, box_iou, mirror_boxes
from .resize import as_bgr
from .yunet import level_strides
from .yunet_net import YuNetNet, add_stride4, export_onnx, has_stride4, load_onnx_weights


def _paste_faces(
    img: np.ndarray,
    boxes: np.ndarray,
    pool: list[BoxedImage],
    rng: random.Random,
    count: int,
    size: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Copy-paste: up to ``count`` faces of training images (their box and a margin around it, faded out at
    the edges), each resized so that its box's longer side is drawn from ``size`` (pixels), pasted where they
    overlap no face."""
    img, boxes = img.copy(), [b for b in boxes]
    h, w = img.shape[:2]
    for _ in range(count):
        src = rng.choice(pool)
        x1, y1, x2, y2 = src.boxes.reshape(-1, 4)[rng.randrange(len(src.boxes))].astype(float)
        m = 0.25 * max(x2 - x1, y2 - y1)
        sx1, sy1 = int(max(0, x1 - m)), int(max(0, y1 - m))
        sx2, sy2 = int(min(src.image.shape[1], x2 + m)), int(min(src.image.shape[0], y2 + m))
        f = rng.uniform(*size) / max(x2 - x1, y2 - y1, 1.0)
        pw, ph = int((sx2 - sx1) * f), int((sy2 - sy1) * f)
        if pw < 6 or ph < 6 or pw >= w or ph >= h:
            continue
        px, py = rng.randint(0, w - pw), rng.randint(0, h - ph)
        box = np.array([px + (x1 - sx1) * f, py + (y1 - sy1) * f, px + (x2 - sx1) * f, py + (y2 - sy1) * f], np.float32)
        patch_area = np.array([[px, py, px + pw, py + ph]], np.float32)
        if boxes and box_iou(patch_area, np.array(boxes, np.float32)).max() > 0:
            continue
        patch = cv2.resize(as_bgr(src.image)[sy1:sy2, sx1:sx2], (pw, ph), interpolation=cv2.INTER_AREA)
        ramp = lambda n: np.clip(np.minimum(np.arange(n) + 1, n - np.arange(n)) / max(1, 0.15 * n), 0, 1)  # noqa
        alpha = (ramp(ph)[:, None] * ramp(pw)[None, :])[..., None]
        roi = img[py : py + ph, px : px + pw].astype(np.float32)
        img[py : py + ph, px : px + pw] = (alpha * patch + (1 - alpha) * roi).astype(np.uint8)
        boxes.append(box)
    return img, np.array(boxes, np.float32).reshape(-1, 4)


def _augment(
    img: np.ndarray, boxes: np.ndarray, rng: random.Random, pool: list[BoxedImage] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``YUNET_FINETUNE["augment"]``: with probability ``paste``, copy-paste of faces from ``pool``
    (``_paste_faces``); with probability ``crop``, a random window of ``crop_scale`` of each side
    (boxes clipped to it; a box keeping less than half its area is dropped); with probability ``jitter``, brightness,
    contrast and saturation scaled by up to +-``jitter_amount``."""
    cfg = YUNET_FINETUNE["augment"]
    if pool and rng.random() < cfg["paste"]:
        img, boxes = _paste_faces(img, boxes, pool, rng, cfg["paste_count"], cfg["paste_size"])
    if rng.random() < cfg["crop"]:
        h, w = img.shape[:2]
        lo, hi = cfg["crop_scale"]
        cw, ch = int(w * rng.uniform(lo, hi)), int(h * rng.uniform(lo, hi))
        x0, y0 = rng.randint(0, w - cw), rng.randint(0, h - ch)
        clipped = np.clip(boxes - [x0, y0, x0, y0], 0, [cw, ch, cw, ch]).astype(np.float32)
        kept = box_area(clipped) >= 0.5 * np.maximum(box_area(boxes), 1e-6)
        if kept.any():  # a window with no face left is not used
            img, boxes = img[y0 : y0 + ch, x0 : x0 + cw], clipped[kept]
    if rng.random() < cfg["jitter"]:
        a = cfg["jitter_amount"]
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 1] *= rng.uniform(1 - a, 1 + a)
        img = cv2.cvtColor(hsv.clip(0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
        img = (img - img.mean()) * rng.uniform(1 - a, 1 + a) + img.mean() * rng.uniform(1 - a, 1 + a)
        img = img.clip(0, 255).astype(np.uint8)
    return img, boxes


def _batch(
    item: BoxedImage, side: int, flip: bool, rng: random.Random | None = None, pool: list[BoxedImage] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The image (augmented when ``rng`` is given) resized to ``side`` on its longer side (flipped if asked),
    zero-padded to multiples of 32, and its boxes on it."""
    img = as_bgr(item.image)
    boxes = item.boxes.astype(np.float32).reshape(-1, 4)
    if rng is not None:
        img, boxes = _augment(img, boxes, rng, pool)
    s = side / max(img.shape[:2])
    img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
    boxes = boxes * s
    if flip:
        img = img[:, ::-1]
        boxes = mirror_boxes(boxes, img.shape[1])
    h, w = img.shape[:2]
    padded = np.zeros((-(-h // 32) * 32, -(-w // 32) * 32, 3), np.uint8)
    padded[:h, :w] = img
    return torch.from_numpy(padded)[None], torch.from_numpy(np.ascontiguousarray(boxes))


def _pair_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    lt, rb = torch.max(a[:, None, :2], b[None, :, :2]), torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / (box_area(a)[:, None] + box_area(b)[None] - inter).clamp(min=1e-6)


def _giou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Generalized IoU of paired boxes (N, 4)."""
    lt, rb = torch.max(a[:, :2], b[:, :2]), torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = (a[:, 2:] - a[:, :2]).prod(-1) + (b[:, 2:] - b[:, :2]).prod(-1) - inter
    hull = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(-1)
    return inter / union.clamp(min=1e-6) - (hull - union) / hull.clamp(min=1e-6)


def _flatten(outs: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
    """Every point of every level: cls and obj logits (P,), decoded boxes (P, 4), landmark maps (P, 10), the
    point's position (P, 2) and stride (P,)."""
    parts: dict[str, list] = {k: [] for k in ("cls", "obj", "box", "kps", "xy", "stride")}
    for level, s in enumerate(level_strides(len(outs))):
        cls, reg, obj, kps = (o[0].reshape(o.shape[1], -1).T for o in outs[4 * level : 4 * level + 4])
        h, w = outs[4 * level].shape[2:]
        ys, xs = torch.meshgrid(torch.arange(h) * float(s), torch.arange(w) * float(s), indexing="ij")
        xy = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)
        centre, wh = reg[:, :2] * s + xy, reg[:, 2:].clamp(max=10).exp() * s
        for k, v in (
            ("cls", cls[:, 0]),
            ("obj", obj[:, 0]),
            ("box", torch.cat([centre - wh / 2, centre + wh / 2], 1)),
            ("kps", kps),
            ("xy", xy),
            ("stride", torch.full((len(xy),), float(s))),
        ):
            parts[k].append(v)
    return {k: torch.cat(v) for k, v in parts.items()}


@torch.no_grad()
def _assign(p: dict[str, torch.Tensor], gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """SimOTA-like assignment: (positive mask (P,), matched box index (P,), IoU with it (P,))."""
    n = len(p["cls"])
    px, py = p["xy"][:, :1], p["xy"][:, 1:]
    cx, cy = (gt[:, 0] + gt[:, 2]) / 2, (gt[:, 1] + gt[:, 3]) / 2
    inside = (px > gt[:, 0]) & (px < gt[:, 2]) & (py > gt[:, 1]) & (py < gt[:, 3])
    radius = YUNET_FINETUNE["centre_radius"] * p["stride"][:, None]
    near = ((px - cx).abs() < radius) & ((py - cy).abs() < radius)
    cand = (inside | near).any(1)
    ids = cand.nonzero()[:, 0]
    iou = _pair_iou(p["box"][cand], gt)
    score = (torch.sigmoid(p["cls"][cand]) * torch.sigmoid(p["obj"][cand])).sqrt().clamp(1e-6, 1 - 1e-6)
    cost = (
        -torch.log(score)[:, None]
        + 3.0 * (1 - iou)
        + 1e5 * (~(inside & near)[cand]).float()
        + 1e6 * (~(inside | near)[cand]).float()
    )
    match = torch.zeros_like(cost, dtype=torch.bool)
    for j in range(len(gt)):
        k = max(1, int(torch.topk(iou[:, j], min(10, len(iou))).values.sum()))
        match[torch.topk(cost[:, j], min(k, len(cost)), largest=False).indices, j] = True
    multi = match.sum(1) > 1  # a point matched to several boxes keeps the cheapest
    if multi.any():
        best = cost[multi].argmin(1)
        match[multi] = False
        match[multi.nonzero()[:, 0], best] = True
    pos, gidx, ious = torch.zeros(n, dtype=torch.bool), torch.zeros(n, dtype=torch.long), torch.zeros(n)
    matched = match.float().argmax(1)
    pos[ids[match.any(1)]] = True
    gidx[ids] = matched
    ious[ids] = iou[torch.arange(len(ids)), matched]
    return pos, gidx, ious


def _loss(outs: tuple[torch.Tensor, ...], teacher_outs: tuple[torch.Tensor, ...], gt: torch.Tensor) -> torch.Tensor:
    p = _flatten(outs)
    pos, gidx, ious = _assign(p, gt)
    n = max(int(pos.sum()), 1)
    obj_target = pos.float()
    loss = F.binary_cross_entropy_with_logits(p["obj"], obj_target, reduction="sum") / n
    if pos.any():
        loss = loss + F.binary_cross_entropy_with_logits(p["cls"][pos], ious[pos].clamp(min=0.01), reduction="sum") / n
        loss = loss + YUNET_FINETUNE["box_weight"] * (1 - _giou(p["box"][pos], gt[gidx[pos]])).sum() / n
        kps = _flatten(teacher_outs)["kps"]
        loss = loss + YUNET_FINETUNE["landmark_weight"] * F.smooth_l1_loss(p["kps"][pos], kps[pos], reduction="sum") / n
    return loss


def _validation_ap(net: YuNetNet, val: list[BoxedImage], path: Path) -> float | None:
    """AP50 of ``net`` (exported to ``path`` and run as ferkit's detector at the input side it will ship with,
    ``YUNET_FINETUNE["input_side"]``) on the validation images; None, after the export, when there are none."""
    from ferkit.utils.onnx import ort_session

    from .evaluate import evaluate_detector
    from .yunet import YuNet

    export_onnx(net, path)
    if not val:
        return None
    ort_session.cache_clear()  # same path, new weights
    det = YuNet(model=path, input_side=YUNET_FINETUNE["input_side"], context=None)
    det.trained_on = set()  # the run's card beside it lists the validation images among those to leave out
    return evaluate_detector(det, val)["ap50"]


@torch.no_grad()
def _ema_update(ema: YuNetNet, net: YuNetNet, decay: float) -> None:
    """``ema``'s weights and buffers <- ``decay`` of themselves plus the rest of ``net``'s."""
    for e, v in zip(ema.state_dict().values(), net.state_dict().values()):
        if e.dtype.is_floating_point:
            e.mul_(decay).add_(v.detach(), alpha=1 - decay)
        else:
            e.copy_(v)


def train_yunet(
    data: str | os.PathLike | list[BoxedImage],
    out: str | os.PathLike,
    epochs: int | None = None,
    lr: float | None = None,
    max_minutes: float | None = None,
    threads: int = 0,
    seed: int = 0,
    init: str | os.PathLike | None = None,
    final: bool = False,
    stride4: bool | None = None,
) -> dict:
    """Fine-tune from ``init`` (default: the shipped YuNet) on ``data`` (a VOC folder/archive, or its loaded
    images); resumes from ``out/last.pt``. ``final``: once a run with validation has settled the recipe, train on
    the validation images too and keep the last epoch (nothing validates it; the test third stays held out).
    ``stride4`` (default config ``YUNET_FINETUNE``): add the stride-4 level for small faces (``add_stride4``);
    a resumed run keeps the levels it began with. Writes
    ``out/yunet.onnx`` (the epoch with the best validation AP50), ``card.json`` (training and validation images,
    so that evaluation leaves them out), ``epochs.jsonl`` and ``summary.json``."""
    from .yunet import YUNET_ONNX

    cfg = {**YUNET_FINETUNE, **({} if stride4 is None else {"stride4": stride4})}
    epochs, lr = epochs or cfg["epochs"], lr or cfg["lr"]
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    items = load_voc(data) if isinstance(data, (str, os.PathLike)) else data
    train, val, test = train_val_test(items, cfg["validation_every"])
    if final:
        train, val = sorted(train + val, key=lambda i: i.name), []
    if not train or not (val or final):
        raise FerkitError(
            f"{data}: too few annotated images to fine-tune on ({len(items)}; {len(test)} are held out for testing)"
        )
    init = Path(init or YUNET_ONNX)
    ck = torch.load(out / "last.pt", weights_only=False) if (out / "last.pt").exists() else None
    if ck is not None:  # a run resumes with the levels it began with
        cfg["stride4"] = has_stride4(ck["model"])

    def initial() -> YuNetNet:
        net = load_onnx_weights(init)
        return add_stride4(net) if cfg["stride4"] and not net.stride4 else net

    net, teacher = initial(), initial().eval()
    ema = initial().eval() if cfg["ema"] else None  # what is validated and shipped, when on
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=cfg["weight_decay"])
    if ck is not None:
        net.load_state_dict(ck["model"]), opt.load_state_dict(ck["opt"])
        if ema is not None:  # a run begun without EMA starts its average from the weights it resumes
            ema.load_state_dict(ck["ema"] if ck.get("ema") is not None else ck["model"])
        start, best, history = ck["epoch"], ck["best"], ck["history"]
    else:  # the pretrained net is epoch 0: kept if no epoch beats it on validation
        start, best = 0, {"ap50": _validation_ap(net, val, out / "val.onnx"), "epoch": 0}
        history = [{"epoch": 0, "val_ap50": best["ap50"], "note": "before fine-tuning"}]
        if val:
            copy_atomic(out / "val.onnx", out / "yunet.onnx")
    steps, t0 = epochs * len(train), time.time()
    net.train()
    for epoch in range(start + 1, epochs + 1):
        rng = random.Random(seed * 1000 + epoch)
        losses = []
        for k, item in enumerate(rng.sample(train, len(train))):
            step = (epoch - 1) * len(train) + k
            for g in opt.param_groups:
                g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            x, gt = _batch(item, rng.choice(cfg["sides"]), rng.random() < 0.5, rng, train)
            with torch.no_grad():
                teacher_outs = teacher(x)
            loss = _loss(net(x), teacher_outs, gt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if ema is not None:
                _ema_update(ema, net, cfg["ema"] * (1 - math.exp(-(step + 1) / cfg["ema_warmup"])))
            losses.append(float(loss.detach()))
        ap = _validation_ap(ema or net, val, out / "val.onnx")
        net.train()
        if not val or ap > best["ap50"]:  # final (no validation): the last epoch is the model
            best = {"ap50": ap, "epoch": epoch}
            copy_atomic(out / "val.onnx", out / "yunet.onnx")  # the export just validated
        history.append(
            {
                "epoch": epoch,
                "loss": round(float(np.mean(losses)), 4),
                "val_ap50": ap,
                "seconds": round(time.time() - t0, 1),
            }
        )
        with atomic_path(out / "last.pt") as tmp:
            torch.save(
                {
                    "model": net.state_dict(),
                    "opt": opt.state_dict(),
                    "epoch": epoch,
                    "best": best,
                    "history": history,
                    "ema": ema.state_dict() if ema is not None else None,
                },
                tmp,
            )
        print(json.dumps(history[-1]), flush=True)
        if max_minutes and (time.time() - t0) / 60 > max_minutes:
            break
    done = history[-1]["epoch"]
    write_text_atomic(out / "epochs.jsonl", "".join(json.dumps(h) + "\n" for h in history))
    card = {
        "name": "yunet_finetuned",
        "train_command": command_line(),
        "init": init.name,
        "data": str(data) if isinstance(data, (str, os.PathLike)) else "",
        "epochs": epochs,
        "epochs_done": done,
        "lr": lr,
        "best_epoch": best["epoch"],
        "validation_ap50": best["ap50"],
        "trained_on": sorted(i.name for i in train),
        "validated_on": sorted(i.name for i in val),
        "held_out_images": len(test),
        "full_recipe": done >= epochs,
        "final": final,
        **{k: v for k, v in cfg.items() if k not in ("epochs", "lr")},
    }
    write_json_atomic(out / "card.json", card)
    summary = {
        k: card[k] for k in ("epochs_done", "epochs", "best_epoch", "validation_ap50", "held_out_images", "full_recipe")
    }
    write_json_atomic(out / "summary.json", summary)
    return summary
