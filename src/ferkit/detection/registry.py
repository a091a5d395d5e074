"""Detector registry: ``create_detector(name)``, ``list_detectors()``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ferkit.config import DEFAULT_DETECTOR
from ferkit.errors import UnknownNameError

from .base import Detector

_DETECTORS: dict[str, tuple[Callable[..., Detector], str]] = {}


def register_detector(name: str, description: str) -> Callable:
    def deco(fn: Callable[..., Detector]) -> Callable[..., Detector]:
        _DETECTORS[name] = (fn, description)
        return fn

    return deco


@register_detector("none", "no detection: the whole image is one face (face crops, one face per image)")
def _none(**kw: Any) -> Detector:
    from .whole_image import WholeImage

    return WholeImage(**kw)


@register_detector("mtcnn", "MTCNN P/R/O-Net cascade (ONNX Runtime), boxes + 5 landmarks; small faces from 20 px")
def _mtcnn(**kw: Any) -> Detector:
    from .mtcnn import MTCNN

    return MTCNN(**kw)


@register_detector("haar", "OpenCV Haar cascade (Viola-Jones), frontal faces, no landmarks")
def _haar(**kw: Any) -> Detector:
    from .haar import HaarCascade

    return HaarCascade(**kw)


@register_detector(
    "yunet", "YuNet (libfacedetection's weights, ONNX Runtime): small anchor-free CNN, boxes + 5 landmarks"
)
def _yunet(**kw: Any) -> Detector:
    from .yunet import YuNet

    return YuNet(**kw)


@register_detector(
    "yunet_masks",
    "YuNet fine-tuned here on the face-mask photos' boxes (paper 002's approach; their held-out third scores it)",
)
def _yunet_masks(**kw: Any) -> Detector:
    from .yunet import YUNET_MASKS_ONNX, YuNet

    d = YuNet(model=YUNET_MASKS_ONNX, **kw)
    d.name = "yunet_masks"
    return d


@register_detector(
    "yunet_masks_ms",
    "yunet_masks at two image sides, boxes fused (config YUNET_MASKS_MS_VIEWS, "
    "chosen on its validation photos): more small faces, ~3x the time",
)
def _yunet_masks_ms(**kw: Any) -> Detector:
    from ferkit.config import YUNET_MASKS_MS_VIEWS as views

    d = _yunet_masks(**{"input_side": views["sides"], "flip": views["flip"], "fusion": views["fusion"], **kw})
    d.name = "yunet_masks_ms"
    return d


@register_detector(
    "yunet_lib", "YuNet through the yuface wheel's compiled libfacedetection (same net; SSE build, slower)"
)
def _yunet_lib(**kw: Any) -> Detector:
    from .yunet import YuNetLib

    return YuNetLib(**kw)


@register_detector(
    "dlib_hog", "dlib HOG + linear SVM (paper 000), frontal faces from ~40 px (20 px upsampled), eyes + nose"
)
def _dlib_hog(**kw: Any) -> Detector:
    from .dlib_detectors import DlibHOG

    return DlibHOG(**kw)


@register_detector("dlib_cnn", "dlib CNN max-margin detector (MMOD), eyes + nose; slow on a CPU")
def _dlib_cnn(**kw: Any) -> Detector:
    from .dlib_detectors import DlibCNN

    return DlibCNN(**kw)


@register_detector(
    "mediapipe", "MediaPipe BlazeFace full-range model (LiteRT), boxes + 6 keypoints; fast, misses small faces"
)
def _mediapipe(**kw: Any) -> Detector:
    from .blazeface import BlazeFace

    return BlazeFace(**kw)


@register_detector(
    "mediapipe_tiled", "MediaPipe BlazeFace full-range on the whole image + overlapping 256 px tiles (group photos)"
)
def _mediapipe_tiled(**kw: Any) -> Detector:
    from .blazeface import BlazeFace

    d = BlazeFace(**{"tile": 256, **kw})
    d.name = "mediapipe_tiled"
    return d


@register_detector(
    "faster_rcnn", "paper 002: torchvision Faster R-CNN (MobileNetV3 FPN) trained here from scratch on face boxes"
)
def _faster_rcnn(**kw: Any) -> Detector:
    from .faster_rcnn import FasterRCNNFaces

    return FasterRCNNFaces(**kw)


def create_detector(name: str = "default", **kw: Any) -> Detector:
    """Build a detector by name (``default`` = the default of ``ferkit analyze``), or a fine-tuned YuNet from its
    ``.onnx`` file or its ``ferkit train-detector --model yunet`` run folder."""
    if name == "default":
        name = DEFAULT_DETECTOR
    if name in _DETECTORS:
        return _DETECTORS[name][0](**kw)
    path = Path(name)
    if path.suffix == ".onnx" or (path / "yunet.onnx").is_file():
        from .yunet import YuNet

        return YuNet(model=path if path.suffix == ".onnx" else path / "yunet.onnx", **kw)
    raise UnknownNameError(
        f"unknown detector {name!r}; known: {', '.join(sorted(_DETECTORS))}, or a fine-tuned "
        "YuNet's .onnx file or run folder"
    )


def detector_names() -> list[str]:
    """The registered detector names, sorted."""
    return sorted(_DETECTORS)


def list_detectors() -> list[dict]:
    return [{"name": n, "description": d, "default": n == DEFAULT_DETECTOR} for n, (_, d) in sorted(_DETECTORS.items())]
