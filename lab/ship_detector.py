"""Ship a fine-tuned YuNet run into the package as the ``yunet_masks`` detector."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ferkit.detection.yunet import YUNET_MASKS_ONNX, YUNET_ONNX
from ferkit.utils.io import copy_atomic, write_json_atomic
from ferkit.utils.reports import command_line


def ship_yunet(run: str | os.PathLike, reports: str | os.PathLike = "reports") -> dict:
    """Copy a fine-tuning run's model and card into the package as the ``yunet_masks`` detector (with YuNet's
    licence, as the weights derive from libfacedetection's), and its epoch log to ``reports/logs``."""
    run = Path(run)
    card = json.loads((run / "card.json").read_text())
    dest = YUNET_MASKS_ONNX.parent
    copy_atomic(run / "yunet.onnx", YUNET_MASKS_ONNX)
    copy_atomic(YUNET_ONNX.parent / "LICENSE", dest / "LICENSE")
    card["name"], card["ship_command"] = "yunet_masks", command_line()
    write_json_atomic(dest / "card.json", card)
    copy_atomic(run / "epochs.jsonl", Path(reports) / "logs" / "yunet_masks_train_epochs.jsonl")
    return {k: card[k] for k in ("best_epoch", "validation_ap50", "epochs_done", "held_out_images")}
