"""``ferkit crossval``: train and test a model under paper 004's hold-out or a subject-independent k-fold protocol."""

from __future__ import annotations

import json

from ferkit.config import CROSSVAL_FOLDS


def add_crossval(sub) -> None:
    p = sub.add_parser(
        "crossval",
        help="train and test a model on a dataset without official splits (CK+48): "
        "paper 004's 80/20 hold-out or subject-independent k-fold (resumable)",
    )
    p.add_argument("--model", required=True, help="registered architecture, torch or classical (see `ferkit models`)")
    p.add_argument("--dataset", default="ckplus", help="ckplus | folder")
    p.add_argument("--data", required=True, help="dataset path (CK+48 folder or tar)")
    p.add_argument("--protocol", default="subject-kfold", choices=["holdout", "subject-kfold"])
    p.add_argument("--folds", type=int, default=CROSSVAL_FOLDS, help="subject-kfold: number of folds")
    p.add_argument(
        "--repeats", type=int, default=1, help="holdout: attempts, each its own random split and seed (paper 004: 10)"
    )
    p.add_argument("--recipe", default="paper004", help="torch models: named recipe")
    p.add_argument("--grid", help="classical models: JSON grid chosen on each fold's validation part")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="run folder: one fold_XX folder per fold, crossval.json/.md")


def run_crossval(a) -> int:
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    from ferkit.training.crossval import crossval

    s = crossval(
        a.model,
        a.dataset,
        a.data,
        a.out,
        a.protocol,
        a.folds,
        a.recipe,
        json.loads(a.grid) if a.grid else None,
        a.seed,
        a.repeats,
    )
    print(json.dumps({k: s[k] for k in ("model", "protocol", "folds", "accuracy_mean", "accuracy_std", "accuracy")}))
    return 0
