"""Options that mean the same in every verb: ``--model`` (a model spec), ``--precision`` (a shipped model's ONNX
copy) and ``--tta`` (test-time views per face), checked before any model loads."""

from __future__ import annotations

import argparse

from ferkit.config import DEFAULT_PRECISION

MODEL_HELP = "a shipped model (`ferkit models`), a .onnx, .ckpt or .joblib file, or several joined by + (their average)"


def add_model_options(
    p: argparse.ArgumentParser,
    *,
    default: str = "default",
    precision: str = DEFAULT_PRECISION,
    tta: bool = True,
    model_help: str = MODEL_HELP,
) -> None:
    """Add ``--model``, ``--precision`` and (with ``tta``) ``--tta`` to a verb's parser."""
    p.add_argument("--model", default=default, help=model_help)
    p.add_argument("--precision", default=precision, help="a shipped model's ONNX copy: int8 or fp32")
    if tta:
        p.add_argument(
            "--tta", type=int, default=0, metavar="N", help="average each face over N test-time views (2..10; 0: off)"
        )


def check_model_options(a: argparse.Namespace) -> None:
    """Raise ``BadOptionError`` (one line) for a bad ``--model``, ``--precision`` or ``--tta``; loads nothing."""
    from ferkit.expression.models import check_model_spec, check_precision, check_views

    check_model_spec(a.model)
    check_precision(a.precision)
    if hasattr(a, "tta"):
        check_views(a.tta)
