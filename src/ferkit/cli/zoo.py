"""``ferkit zoo``: train a teacher zoo within a time budget, score it, pack its outputs (resumable)."""

from __future__ import annotations

import json
from pathlib import Path

from ferkit.config import ZOO_MEMBERS

from .options import add_train_speed_options, check_train_speed_options


def add_zoo(sub) -> None:
    p = sub.add_parser(
        "zoo",
        help="train several teachers within a time budget on this machine's accelerator, score them with test-time "
        "views, choose their ensemble on PublicTest, export ONNX and pack the outputs (rerun to resume)",
    )
    p.add_argument("--budget", required=True, help="time for measuring and training, e.g. 10m, 90s, 1.5h")
    p.add_argument("--out", required=True, help="zoo folder: runs, outputs, ONNX files, pack/ (rerun to resume)")
    p.add_argument("--data", required=True, help="FER2013 (Kaggle folders or zip, or fer2013.csv)")
    p.add_argument(
        "--models",
        help=f"comma-separated MODEL[:RECIPE] teachers (recipe default ferkit); default: {','.join(ZOO_MEMBERS)}",
    )
    p.add_argument("--ferplus", help="FER+ votes (fer2013new.csv): the teachers' FER+ test figures too")
    p.add_argument("--ferplus-images", help="FER+ images (ferplus_images.zip; default: --data if it is fer2013.csv)")
    p.add_argument("--accelerator", default="auto", help="Lightning accelerator: auto | cpu | gpu")
    p.add_argument("--devices", default="auto", help="devices per run (e.g. 4: DDP over 4 GPUs)")
    p.add_argument("--strategy", default="auto", help="Lightning strategy (ddp with several devices)")
    p.add_argument("--batch-size", type=int, help="per-device batch (default: each recipe's); lr follows --lr-scale")
    p.add_argument("--max-train", type=int, help="train on a random subset of this many faces (tiny runs, tests)")
    p.add_argument("--views", type=int, default=10, help="test-time views of the teachers' outputs (1..10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads")
    add_train_speed_options(p)


def run_zoo(a) -> int:
    from ferkit.errors import BadOptionError
    from ferkit.expression.models import check_views

    check_train_speed_options(a)
    check_views(a.views, "--views")
    if a.freed_memory != "keep" or a.lr_scale != "auto" or a.data_path != "device":
        raise BadOptionError("zoo: --freed-memory, --lr-scale and --data-path keep their defaults in a zoo")
    if not Path(a.data).exists():
        raise BadOptionError(f"--data: {a.data} does not exist")
    for opt, value in (("--ferplus", a.ferplus), ("--ferplus-images", a.ferplus_images)):
        if value and not Path(value).exists():
            raise BadOptionError(f"{opt}: {value} does not exist")
    for opt, value in (("--max-train", a.max_train), ("--batch-size", a.batch_size), ("--threads", a.threads)):
        if value is not None and value < 1:
            raise BadOptionError(f"{opt}: a positive number, not {value}")
    from ferkit.training.zoo import Zoo, ZooSettings, parse_budget, parse_members

    settings = ZooSettings(
        data=str(Path(a.data).resolve()),
        budget_s=parse_budget(a.budget),
        members=parse_members(a.models),
        accelerator=a.accelerator,
        devices=str(a.devices),
        strategy=a.strategy,
        precision=a.train_precision,
        batch_size=a.batch_size,
        max_train=a.max_train,
        views=a.views,
        ferplus=str(Path(a.ferplus).resolve()) if a.ferplus else None,
        ferplus_images=str(Path(a.ferplus_images).resolve()) if a.ferplus_images else None,
        seed=a.seed,
        threads=a.threads,
        compile_mode=a.compile,
    )
    manifest = Zoo(settings, a.out).run()
    print(json.dumps({k: manifest[k] for k in ("seconds", "ensemble", "files", "left_out")}, indent=2))
    return 0
