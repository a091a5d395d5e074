"""``ferkit ensemble``: choose averaging-ensemble members on the selection split (greedy forward selection),
then measure the chosen ensemble once on the test split."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ferkit.config import DEFAULT_PRECISION
from ferkit.data import load_dataset
from ferkit.expression.models import load_classifier
from ferkit.utils.reports import write_report

from .evaluate import evaluate_faceset


def select_ensemble(
    candidates: list[str],
    dataset: str,
    data: str,
    json_out: str,
    select_split: str = "PublicTest",
    test_split: str = "PrivateTest",
    tta: int | Sequence[int] = 0,
    precision: str = DEFAULT_PRECISION,
    max_members: int = 8,
    **kw,
) -> dict:
    """Score every candidate on ``select_split``, pick members greedily there, evaluate the ensemble on
    ``test_split`` (the test split is read only for the chosen ensemble). With several ``tta`` view counts, members
    are picked for each and the count whose ensemble scores best on ``select_split`` is kept (fewer views on a tie)."""
    from ferkit.expression.ensemble import AverageEnsemble, greedy_members

    sel = load_dataset(dataset, data, select_split, **kw)
    clfs = {c: load_classifier(c, classes=tuple(sel.classes), precision=precision) for c in candidates}
    options = []
    for views in sorted({tta} if isinstance(tta, int) else set(tta)):
        probs, single = {}, {}
        for name, clf in clfs.items():
            rep, probs[name] = evaluate_faceset(clf, sel, views)
            single[name] = rep["accuracy"]
        chosen = greedy_members(probs, sel.labels, max_members)
        ens_sel = float((np.mean([probs[m] for m in chosen], 0).argmax(1) == sel.labels).mean())
        options.append(
            {
                "tta": views,
                "members": chosen,
                "selection_accuracy": round(ens_sel, 5),
                "candidates_selection_accuracy": single,
            }
        )
    best = max(options, key=lambda o: o["selection_accuracy"])  # first (fewest views) on a tie
    tta, chosen, single, ens_sel = (
        best["tta"],
        best["members"],
        best["candidates_selection_accuracy"],
        best["selection_accuracy"],
    )
    test = load_dataset(dataset, data, test_split, **kw)
    rep, _ = evaluate_faceset(AverageEnsemble([clfs[m] for m in chosen]), test, tta)
    out = {
        "dataset": dataset,
        "data": str(data),
        "select_split": sel.split,
        "split": test.split,
        "tta": tta,
        "precision": precision,
        "candidates_selection_accuracy": single,
        "members": chosen,
        "selection_accuracy": ens_sel,
        **rep,
    }
    if len(options) > 1:
        out["tta_options_selection"] = {str(o["tta"]): o["selection_accuracy"] for o in options}
    write_report(json_out, out, f"Averaging ensemble on {dataset} {test.split}, members chosen on {sel.split}")
    return out
