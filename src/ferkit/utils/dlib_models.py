"""dlib (the ``dlib-bin`` wheel) and the model files of the ``face_recognition_models`` package, found on disk
without importing that package (its ``__init__`` needs ``pkg_resources``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import ModuleType

from ferkit.errors import FerkitError
from ferkit.utils.packaged import installed_file

_HINT = "pip install 'ferkit[dlib]' (dlib-bin and face_recognition_models)"


def load_dlib() -> ModuleType:
    try:
        import dlib
    except ImportError as e:
        raise FerkitError(f"this needs dlib: {_HINT}") from e
    return dlib


def dlib_model_path(filename: str) -> Path:
    """Path of one of ``face_recognition_models``' files, e.g. ``shape_predictor_5_face_landmarks.dat``."""
    return installed_file("face_recognition_models", f"models/{filename}", _HINT)


@lru_cache(maxsize=None)
def shape_predictor(points: int = 5):
    """dlib's 5- or 68-point landmark predictor (cached)."""
    dlib = load_dlib()
    return dlib.shape_predictor(str(dlib_model_path(f"shape_predictor_{points}_face_landmarks.dat")))
