"""Choose the views (input sides, mirror) the fine-tuned YuNet runs with, on its validation photos only.

Each candidate of config YUNET_VIEW_CANDIDATES runs a fine-tuning run's model (``--model``: a run's yunet.onnx,
whose card.json names its validation photos; the test third is never read) and is scored by AP50 on those photos
and ms per 640x480 frame; the chosen one has the best AP50 among those within the speed goal. Writes
reports/yunet_views.{json,md}.
    python scripts/select_yunet_views.py --data ../shared/data/face_mask_detection_subset300.tar \
        --model runs/yunet_masks/yunet.onnx
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ferkit.config import YUNET_VIEW_CANDIDATES
from ferkit.data.voc import load_voc
from ferkit.detection.evaluate import evaluate_detector, frame_latency_ms
from ferkit.detection.yunet import YuNet
from ferkit.utils.reports import write_report
from lab.detection_report import GOALS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="the VOC photos the model was fine-tuned on")
    ap.add_argument("--model", required=True, help="a fine-tuning run's yunet.onnx (its card lists validated_on)")
    ap.add_argument("--out", default="reports/yunet_views.json")
    a = ap.parse_args()
    card = json.loads(Path(a.model).with_name("card.json").read_text())
    val = [i for i in load_voc(a.data) if i.name in set(card["validated_on"])]
    if not val:
        raise SystemExit(f"{a.model}: its card names no validation photos of {a.data}")
    rows = []
    for views in YUNET_VIEW_CANDIDATES:
        det = YuNet(model=a.model, input_side=views["sides"], flip=views["flip"], fusion=views["fusion"])
        det.trained_on = set()  # scored on its validation photos, which the card lists among those to leave out
        rep = evaluate_detector(det, val)
        rows.append(
            {
                "sides": list(views["sides"]),
                "flip": views["flip"],
                "fusion": views["fusion"],
                "val_ap50": rep["ap50"],
                "max_recall": rep["max_recall"],
                "ms_per_frame": round(frame_latency_ms(det, val[0].image), 2),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    fast = [r for r in rows if r["ms_per_frame"] <= GOALS["ms_per_frame"]]
    chosen = max(fast, key=lambda r: r["val_ap50"]) if fast else None
    data = {
        "model": a.model,
        "validation_images": len(val),
        "validation_boxes": int(sum(len(i.boxes) for i in val)),
        "speed_goal_ms": GOALS["ms_per_frame"],
        "rows": rows,
        "chosen": chosen,
    }
    table = (
        "\n| sides | mirror | fusion | validation AP50 | max recall | ms / 640x480 frame |\n|---|---|---|---|---|---|\n"
    )
    table += "".join(
        f"| {', '.join(map(str, r['sides']))} | {'yes' if r['flip'] else 'no'} | {r['fusion']} | "
        f"{r['val_ap50']:.4f} | {r['max_recall']:.4f} | {r['ms_per_frame']:.1f} |\n"
        for r in rows
    )
    write_report(
        a.out,
        data,
        "YuNet views chosen on the validation photos",
        table + "\nChosen: the best validation AP50 among the views within the speed goal. Fusion: nms keeps each "
        "face's best box over the views, wbf fuses them (detection/nms.py fuse_views). The test third is "
        "not read here; reports/detection.md scores the chosen views on it (`yunet_masks_ms`).\n",
        tabled=("rows",),
    )


if __name__ == "__main__":
    main()
