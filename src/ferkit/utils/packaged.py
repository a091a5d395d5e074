"""Files shipped inside other installed packages, found on disk without importing those packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ferkit.errors import FerkitError


def installed_file(package: str, relpath: str, hint: str) -> Path:
    """``relpath`` inside the installed ``package``; a clear error (with ``hint``) if either is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FerkitError(f"package {package!r} is missing: {hint}")
    path = Path(list(spec.submodule_search_locations)[0]) / relpath
    if not path.is_file():
        raise FerkitError(f"{path} is missing: {hint}")
    return path
