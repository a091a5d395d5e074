"""``ferkit teach``: store a teacher's outputs on a dataset split, for distilling students without the teacher."""

from __future__ import annotations

import json
from pathlib import Path

from .options import MODEL_HELP, add_model_options, check_model_options


def add_teach(sub) -> None:
    p = sub.add_parser("teach", help="store a teacher model's outputs on a dataset split (for `train --teacher`)")
    add_model_options(p, precision="fp32", model_help=f"the teacher: {MODEL_HELP}")
    p.add_argument("--dataset", default="fer2013")
    p.add_argument("--data", help="the dataset the teacher sees (e.g. full faces)")
    p.add_argument("--split", default="Training")
    p.add_argument("--out", required=True, help=".npz file: face keys and the teacher's log-probabilities")
    p.add_argument(
        "--average", nargs="+", metavar="FILE", help="instead: average stored teacher files into one (an ensemble)"
    )


def run_teach(a) -> int:
    from ferkit.errors import BadOptionError

    if a.average:
        from ferkit.training.teacher import TeacherOutputs

        missing = [f for f in a.average if not Path(f).is_file()]
        if missing:
            raise BadOptionError(f"--average: {missing[0]}: no such file")
        t = TeacherOutputs.average([TeacherOutputs.load(f) for f in a.average])
    else:
        if not a.data:
            raise BadOptionError("--data: the dataset the teacher sees is needed (or --average stored teachers)")
        check_model_options(a)
        from ferkit.training.teacher import teacher_outputs

        t = teacher_outputs(a.model, a.dataset, a.data, a.split, a.precision, tta=a.tta)
    t.save(a.out)
    print(json.dumps({"out": a.out, "faces": len(t.keys), "model": t.model, "split": t.split}))
    return 0
