"""``ferkit teach``: store a teacher's outputs on a dataset split, for distilling students without the teacher."""
from __future__ import annotations

import json


def add_teach(sub) -> None:
    p = sub.add_parser("teach", help="store a teacher model's outputs on a dataset split (for `train --teacher`)")
    p.add_argument("--model", default="default",
                   help="the teacher: shipped model, .onnx, .ckpt, or several joined by + (averaging ensemble)")
    p.add_argument("--tta", type=int, default=0, metavar="N", help="average the teacher over N views")
    p.add_argument("--dataset", default="fer2013")
    p.add_argument("--data", required=True, help="the dataset the teacher sees (e.g. full faces)")
    p.add_argument("--split", default="Training")
    p.add_argument("--precision", default="fp32", choices=["fp32", "int8"])
    p.add_argument("--out", required=True, help=".npz file: face keys and the teacher's log-probabilities")


def run_teach(a) -> int:
    from ferkit.training.teacher import teacher_outputs
    t = teacher_outputs(a.model, a.dataset, a.data, a.split, a.precision, tta=a.tta)
    t.save(a.out)
    print(json.dumps({"out": a.out, "faces": len(t.keys), "model": t.model, "split": t.split}))
    return 0
