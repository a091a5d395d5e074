"""Face detection: backends behind one interface and registry."""

from .base import Detection, Detector
from .registry import create_detector, list_detectors, register_detector

__all__ = ["Detection", "Detector", "create_detector", "list_detectors", "register_detector"]
