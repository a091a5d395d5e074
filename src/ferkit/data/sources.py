"""Uniform access to files inside a folder, a zip archive or a tar archive."""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path
from typing import Iterator

from ferkit.errors import DatasetLayoutError


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and (name.endswith(".zip") or ".tar" in name or name.endswith(".tgz"))


class FileSource:
    """Files of a folder or archive, addressed by '/'-separated relative paths."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise DatasetLayoutError(f"{self.path}: no such file or folder")
        if not (self.path.is_dir() or is_archive(self.path)):
            raise DatasetLayoutError(f"{self.path}: expected a folder, a .zip or a .tar archive")

    def names(self) -> list[str]:
        """All file paths, relative, '/'-separated, sorted."""
        p = self.path
        if p.is_dir():
            return sorted(str(f.relative_to(p)).replace(os.sep, "/") for f in p.rglob("*") if f.is_file())
        try:
            if p.name.lower().endswith(".zip"):
                with zipfile.ZipFile(p) as z:
                    return sorted(i.filename for i in z.infolist() if not i.is_dir())
            with tarfile.open(p) as t:
                return sorted(m.name for m in t.getmembers() if m.isfile())
        except (zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
            raise DatasetLayoutError(f"{p}: unreadable archive ({e})") from e

    def read_many(self, names: list[str]) -> Iterator[tuple[str, bytes]]:
        """Yield (name, bytes) for the given names, in the given order for folders and zips."""
        p = self.path
        if p.is_dir():
            for n in names:
                yield n, (p / n).read_bytes()
        elif p.name.lower().endswith(".zip"):
            with zipfile.ZipFile(p) as z:
                for n in names:
                    yield n, z.read(n)
        else:
            wanted = set(names)
            with tarfile.open(p) as t:
                for m in t:
                    if m.isfile() and m.name in wanted:
                        f = t.extractfile(m)
                        yield m.name, f.read() if f else b""
