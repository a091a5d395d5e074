"""``AnalyzeSettings``: every option of ``ferkit analyze`` in one typed object, checked once before any model loads.

The CLI builds it from its arguments; the Python API (``Analyzer.from_settings``, ``analyze_sources``) takes it too.
``validate()`` raises ``BadOptionError`` with one line naming the option and what it allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

from ferkit.config import DEFAULT_PRECISION, FRAME_PREFETCH, MASKED_MODEL, MASKED_MODES, MAX_IMAGE_PIXELS
from ferkit.errors import BadOptionError
from ferkit.expression.models import check_model_spec, check_precision, check_views


@dataclass(frozen=True)
class AnalyzeSettings:
    """Options of an analysis (CLI spelling in brackets).

    detector [--detector]: a detector name or a fine-tuned YuNet's .onnx / run folder; model [--model]: a model spec
    (expression/models.py: a shipped name, .onnx, .ckpt, .joblib, or a+b); precision [--precision]: int8 or fp32
    copy of a shipped model; masked [--masked]:
    off | on | auto, masked_model [--masked-model]; tta [--tta]: views per face (0/1 off, 2..10); calibrate
    [--no-calibration]: the model's crowd calibration; threads [--threads] (0: all cores); gallery [--gallery];
    every [--every]: analyse every N-th video frame; detect_every [--detect-every]; max_frames [--max-frames];
    smooth [--smooth]: per-track smoothing in [0, 1); prefetch [--prefetch]: frames decoded ahead; annotate
    [--no-annotate]; max_pixels [--max-pixels]: larger images are refused (decompression bombs)."""

    detector: str = "default"
    model: str = "default"
    precision: str = DEFAULT_PRECISION
    masked: str = "off"
    masked_model: str = MASKED_MODEL
    tta: int = 0
    calibrate: bool = True
    threads: int = 0
    gallery: str | None = None
    every: int = 1
    detect_every: int = 1
    max_frames: int | None = None
    smooth: float = 0.0
    prefetch: int = FRAME_PREFETCH
    annotate: bool = True
    max_pixels: int = MAX_IMAGE_PIXELS

    def validate(self) -> "AnalyzeSettings":
        """Check every option (types, ranges, names, files); return self."""
        _whole("--every", self.every, 1)
        _whole("--detect-every", self.detect_every, 1)
        _whole("--threads", self.threads, 0)
        _whole("--prefetch", self.prefetch, 0)
        _whole("--max-pixels", self.max_pixels, 1)
        if self.max_frames is not None:
            _whole("--max-frames", self.max_frames, 1)
        check_views(self.tta)
        if not isinstance(self.smooth, (int, float)) or not math.isfinite(self.smooth) or not 0 <= self.smooth < 1:
            raise BadOptionError(f"--smooth: must be a number in [0, 1) (0 = off), not {self.smooth!r}")
        check_precision(self.precision)
        _choice("--masked", self.masked, MASKED_MODES)
        check_model_spec(self.model)
        if self.masked != "off":
            check_model_spec(self.masked_model, "--masked-model")
        _check_detector(self.detector)
        if self.gallery is not None and not Path(self.gallery).is_file():
            raise BadOptionError(f"--gallery: {self.gallery}: no such file (make one with `ferkit enroll`)")
        return self

    def replace(self, **changes) -> "AnalyzeSettings":
        """A copy with ``changes`` (checked)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise BadOptionError(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        return AnalyzeSettings(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes}).validate()


def _whole(option: str, value, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise BadOptionError(f"{option}: must be a whole number >= {low}, not {value!r}")


def _choice(option: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise BadOptionError(f"{option}: must be one of {', '.join(allowed)}, not {value!r}")


def _check_detector(name: str) -> None:
    from ferkit.detection.registry import detector_names

    path = Path(name)
    if name == "default" or name in detector_names():
        return
    if (path.suffix == ".onnx" and path.is_file()) or (path / "yunet.onnx").is_file():
        return
    raise BadOptionError(
        f"--detector: unknown detector {name!r}; known: {', '.join(detector_names())}, or a "
        "fine-tuned YuNet's .onnx file or run folder"
    )
