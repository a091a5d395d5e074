"""Paper 002's detector: a torchvision Faster R-CNN (MobileNetV3-Large FPN trunk) trained on the face boxes
available here. No COCO / ImageNet weights exist offline, so it starts from random weights (the paper fine-tuned
a COCO model). Needs the ``train`` extra (torch, torchvision).

``train_faster_rcnn`` holds out every third image (sorted by name) of the box dataset; the checkpoint records the
training images, and ``ferkit detect-eval`` / ``report detection`` leave them out when scoring this detector."""

from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np

from ferkit.data.voc import held_out, load_voc
from ferkit.errors import FerkitError
from ferkit.utils.io import atomic_path, write_json_atomic

from .base import Detection, Detector
from .nms import mirror_boxes
from .resize import as_bgr

DEFAULT_WEIGHTS = Path("runs/faster_rcnn/model.pt")


def build_model(min_size: int = 480, max_size: int = 640):
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_fpn

    return fasterrcnn_mobilenet_v3_large_fpn(
        weights=None,
        weights_backbone=None,
        num_classes=2,
        min_size=min_size,
        max_size=max_size,
        box_score_thresh=0.05,
        box_detections_per_img=200,
    )


def _tensor(image: np.ndarray):
    import torch

    rgb = np.ascontiguousarray(as_bgr(image)[:, :, ::-1])
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255)


def train_faster_rcnn(
    data: str | os.PathLike,
    out: str | os.PathLike,
    epochs: int = 30,
    batch: int = 4,
    lr: float = 0.02,
    max_minutes: float | None = None,
    threads: int = 0,
    seed: int = 0,
) -> dict:
    """Train (resuming from ``out/last.pt``) on the non-held-out images; writes ``out/model.pt`` and ``log.jsonl``."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    items = load_voc(data)
    test = held_out([i.name for i in items])
    train = [i for i in items if i.name not in test and len(i.boxes)]
    model = build_model()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(train) / batch)
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    )
    start = 0
    if (out / "last.pt").exists():
        ck = torch.load(out / "last.pt", weights_only=False)
        model.load_state_dict(ck["model"]), opt.load_state_dict(ck["opt"]), sched.load_state_dict(ck["sched"])
        start = ck["epoch"] + 1
    t0 = time.time()
    model.train()
    for epoch in range(start, epochs):
        rng = random.Random(seed + epoch)
        order = rng.sample(train, len(train))
        losses = []
        for k in range(0, len(order), batch):
            imgs, targets = [], []
            for it in order[k : k + batch]:
                img, boxes = it.image, it.boxes.astype(np.float32)
                if rng.random() < 0.5:  # horizontal flip
                    img = img[:, ::-1]
                    boxes = mirror_boxes(boxes, img.shape[1])
                imgs.append(_tensor(img))
                targets.append({"boxes": torch.from_numpy(boxes), "labels": torch.ones(len(boxes), dtype=torch.int64)})
            loss = sum(model(imgs, targets).values())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        with open(out / "log.jsonl", "a") as f:
            f.write(
                json.dumps(
                    {
                        "epoch": epoch,
                        "loss": round(float(np.mean(losses)), 4),
                        "lr": opt.param_groups[0]["lr"],
                        "seconds": round(time.time() - t0, 1),
                    }
                )
                + "\n"
            )
        with atomic_path(out / "last.pt") as tmp:
            torch.save(
                {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "epoch": epoch}, tmp
            )
        if max_minutes and (time.time() - t0) / 60 > max_minutes:
            break
    done = epoch + 1 if epochs > start else start
    with atomic_path(out / "model.pt") as tmp:
        torch.save(
            {
                "model": model.state_dict(),
                "trained_on": sorted(i.name for i in train),
                "epochs": done,
                "data": str(data),
            },
            tmp,
        )
    summary = {
        "epochs_done": done,
        "epochs": epochs,
        "train_images": len(train),
        "held_out_images": len(test),
        "full_recipe": done >= epochs,
    }
    write_json_atomic(out / "summary.json", summary)
    return summary


class FasterRCNNFaces(Detector):
    """A trained ``model.pt`` (default ``runs/faster_rcnn/model.pt``); ``trained_on`` lists its training images."""

    name = "faster_rcnn"
    score_scale = "probability"

    def __init__(self, weights: str | os.PathLike = DEFAULT_WEIGHTS, min_score: float = 0.05, threads: int = 0):
        try:
            import torch
        except ImportError as e:
            raise FerkitError("the faster_rcnn detector needs torch: pip install 'ferkit[train]'") from e
        if not Path(weights).is_file():
            raise FerkitError(f"{weights}: no trained Faster R-CNN (train one: ferkit train-detector --data VOC_BOXES)")
        if threads:
            torch.set_num_threads(threads)
        ck = torch.load(weights, weights_only=False, map_location="cpu")
        self.model = build_model()
        self.model.load_state_dict(ck["model"])
        self.model.eval()
        self.trained_on, self.min_score = set(ck.get("trained_on", [])), min_score

    def detect(self, image: np.ndarray) -> list[Detection]:
        import torch

        with torch.inference_mode():
            out = self.model([_tensor(image)])[0]
        return [
            Detection(b.numpy().astype(np.float32), float(s))
            for b, s in zip(out["boxes"], out["scores"])
            if s >= self.min_score
        ]
