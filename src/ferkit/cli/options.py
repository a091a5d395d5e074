"""Options that mean the same in every verb: ``--model`` (a model spec), ``--precision`` (a shipped model's ONNX
copy) and ``--tta`` (test-time views per face), checked before any model loads."""

from __future__ import annotations

import argparse

from ferkit.config import (
    COMPILE_MODES,
    DATA_PATHS,
    DEFAULT_DETECTOR,
    DEFAULT_MODEL,
    DEFAULT_PRECISION,
    FREED_MEMORY,
    LR_SCALES,
    MASKED_MODEL,
    MAX_IMAGE_PIXELS,
    TRAIN_PRECISIONS,
)

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


def add_pipeline_options(p: argparse.ArgumentParser, threads: int = 0) -> None:
    """The pipeline's options, shared by ``analyze`` and ``serve``: detector, model, precision, views, threads,
    gallery, masked faces, calibration, the pixel limit."""
    p.add_argument(
        "--detector",
        default="default",
        help=f"face detector (default: {DEFAULT_DETECTOR}; `none`: the whole image is one face; `ferkit detectors`)",
    )
    add_model_options(p, model_help=f"expression model (default: {DEFAULT_MODEL}): {MODEL_HELP}")
    p.add_argument("--threads", type=int, default=threads, help="CPU threads per model (0 = all cores)")
    p.add_argument("--gallery", help="gallery file from `ferkit enroll`: label each face with a name or 'unknown'")
    p.add_argument(
        "--masked",
        default="off",
        help="masked faces: off, on (all faces to the masked-face model) or auto (the mask detector decides)",
    )
    p.add_argument("--masked-model", default=MASKED_MODEL, help="expression model for masked faces")
    p.add_argument(
        "--no-calibration",
        action="store_true",
        help="the model's raw FER2013 probabilities, without its crowd calibration (see docs)",
    )
    p.add_argument(
        "--max-pixels",
        type=int,
        default=MAX_IMAGE_PIXELS,
        help="refuse images larger than this many pixels (read from the header, before decoding)",
    )


def add_frame_options(p: argparse.ArgumentParser) -> None:
    """The video frame options, shared by ``analyze`` and ``batch``: ``--every`` and ``--detect-every``."""
    p.add_argument("--every", type=int, default=1, help="analyse every N-th video frame (>= 1)")
    p.add_argument(
        "--detect-every",
        type=int,
        default=1,
        help="videos: run the detector on every K-th analysed frame, carry its boxes in between (>= 1)",
    )


def pipeline_settings(a: argparse.Namespace, **extra):
    """The validated ``AnalyzeSettings`` of the pipeline options (and ``extra`` fields)."""
    from ferkit.app.settings import AnalyzeSettings

    return AnalyzeSettings(
        detector=a.detector,
        model=a.model,
        precision=a.precision,
        masked=a.masked,
        masked_model=a.masked_model,
        tta=a.tta,
        calibrate=not a.no_calibration,
        threads=a.threads,
        gallery=a.gallery,
        max_pixels=a.max_pixels,
        **extra,
    ).validate()


def add_train_speed_options(p: argparse.ArgumentParser) -> None:
    """How a training run uses its device: precision, data path, torch.compile, learning-rate scaling."""
    p.add_argument(
        "--train-precision",
        default="auto",
        help=f"Lightning compute precision: {', '.join(TRAIN_PRECISIONS)} (auto: bf16-mixed where the GPU or CPU "
        "computes bfloat16 natively, else 32-true)",
    )
    p.add_argument(
        "--data-path",
        default="device",
        help="device: the face set on the training device, batches sliced there (default); loader: a DataLoader",
    )
    p.add_argument(
        "--compile",
        nargs="?",
        const="default",
        metavar="MODE",
        help=f"torch.compile the network ({', '.join(COMPILE_MODES)}; reduce-overhead: CUDA graphs); meant for GPUs",
    )
    p.add_argument(
        "--freed-memory",
        default="keep",
        help="keep: freed tensors' memory stays in the process for the next step (default; no page faults per "
        "step); return: the C library's default, large blocks go back to the system when freed",
    )
    p.add_argument(
        "--lr-scale",
        default="auto",
        help="learning rate for a global batch (batch x devices) other than the recipe's: linear, sqrt, none, auto "
        "(linear for SGD, sqrt for Adam-type); an explicit --lr is kept as given",
    )


def check_train_speed_options(a: argparse.Namespace) -> None:
    """One-line errors for bad training speed options, before any data or model loads."""
    from ferkit.errors import check_choice

    for value in str(a.train_precision).split(","):
        check_choice(value, TRAIN_PRECISIONS, "--train-precision")
    for value in str(a.data_path).split(","):
        check_choice(value, DATA_PATHS, "--data-path")
    for value in str(a.freed_memory).split(","):
        check_choice(value, FREED_MEMORY, "--freed-memory")
    if getattr(a, "compile", None):
        check_choice(a.compile, COMPILE_MODES, "--compile")
    if hasattr(a, "lr_scale"):
        check_choice(a.lr_scale, LR_SCALES, "--lr-scale")
    if getattr(a, "batch_size", None) is not None and a.batch_size < 1:
        from ferkit.errors import BadOptionError

        raise BadOptionError(f"--batch-size: a positive number of faces, not {a.batch_size}")
