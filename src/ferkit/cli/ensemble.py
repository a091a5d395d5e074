"""``ferkit ensemble``: an averaging ensemble, members chosen on PublicTest, measured on PrivateTest."""

from __future__ import annotations

import json

from ferkit.config import DEFAULT_PRECISION


def add_ensemble(sub) -> None:
    p = sub.add_parser(
        "ensemble",
        help="choose averaging-ensemble members on the selection split (greedy), "
        "measure the ensemble on the test split",
    )
    p.add_argument(
        "--candidates", required=True, help="comma-separated models: shipped names, .onnx, .ckpt or .joblib files"
    )
    p.add_argument("--dataset", default="fer2013")
    p.add_argument("--data", required=True)
    p.add_argument("--images", help="ferplus: FER+ images")
    p.add_argument("--select-split", default="PublicTest")
    p.add_argument("--split", default="PrivateTest")
    p.add_argument(
        "--tta-choices",
        default="0",
        metavar="N[,N...]",
        help="average each member over N views; several counts: the one whose ensemble is best on the "
        "selection split is kept",
    )
    p.add_argument("--precision", default=DEFAULT_PRECISION, help="shipped models' ONNX copy: int8 or fp32")
    p.add_argument("--max-members", type=int, default=8)
    p.add_argument("--json", required=True, help="report (JSON, Markdown twin beside it)")


def run_ensemble(a) -> int:
    from ferkit.errors import BadOptionError
    from ferkit.expression.models import check_model_spec, check_precision, check_views

    for c in a.candidates.split(","):
        check_model_spec(c, "--candidates")
    check_precision(a.precision)
    try:
        views = [int(n) for n in a.tta_choices.split(",")]
    except ValueError:
        raise BadOptionError(f"--tta-choices: comma-separated view counts, not {a.tta_choices!r}") from None
    for n in views:
        check_views(n, "--tta-choices")
    from ferkit.evaluation.ensemble_select import select_ensemble

    kw = {"images": a.images} if a.images else {}
    r = select_ensemble(
        a.candidates.split(","),
        a.dataset,
        a.data,
        a.json,
        a.select_split,
        a.split,
        views,
        a.precision,
        a.max_members,
        **kw,
    )
    print(
        json.dumps(
            {
                k: r[k]
                for k in ("candidates_selection_accuracy", "members", "selection_accuracy", "split", "tta", "accuracy")
            }
        )
    )
    return 0
