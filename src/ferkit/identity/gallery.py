"""A gallery of enrolled face embeddings, stored as one ``.npz`` file, and k-nearest-neighbour identification."""

from __future__ import annotations

import json
import os
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from ferkit.config import IDENTITY_MIRROR, IDENTITY_TEXTURE
from ferkit.config import IDENTITY_THRESHOLD as DEFAULT_THRESHOLD
from ferkit.errors import BadInputError
from ferkit.utils.io import atomic_path

from .embedder import EMBEDDING_DIM, DlibEmbedder, texture_dim

UNKNOWN = "unknown"


class Gallery:
    """Enrolled people: ``names[i]`` owns ``embeddings[i]``; ``identify`` votes among the ``k`` nearest
    enrolled embeddings closer than ``threshold``, else answers ``unknown``. ``mirror`` and ``texture``: how the
    embeddings were made (``DlibEmbedder``'s arguments; default the configured ones); faces matched against the
    gallery must be embedded the same way, by ``new_embedder()``. ``dim``: the embedding length, by default the
    one those settings make (another for embeddings scored outside ``new_embedder``, as in evaluation)."""

    def __init__(
        self,
        embedder: str = "dlib_resnet_v1",
        threshold: float = DEFAULT_THRESHOLD,
        k: int = 3,
        mirror: bool = IDENTITY_MIRROR,
        texture: dict | None = None,
        dim: int | None = None,
    ):
        self.embedder, self.threshold, self.k, self.mirror = embedder, threshold, k, mirror
        self.texture = dict(IDENTITY_TEXTURE if texture is None else texture)
        self.names: list[str] = []
        self.sources: list[str] = []
        self.embeddings = np.zeros((0, dim or EMBEDDING_DIM + texture_dim(self.texture)), np.float32)

    def new_embedder(self) -> DlibEmbedder:
        """A ``DlibEmbedder`` that embeds faces as this gallery's were."""
        return DlibEmbedder(mirror=self.mirror, texture=self.texture)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def people(self) -> list[str]:
        return sorted(set(self.names))

    def add(self, name: str, embeddings: np.ndarray, sources: list[str] | None = None) -> None:
        e = np.asarray(embeddings, np.float32).reshape(-1, self.embeddings.shape[1])
        if not name or name == UNKNOWN:
            raise BadInputError(f"invalid identity name {name!r}")
        self.embeddings = np.concatenate([self.embeddings, e])
        self.names += [name] * len(e)
        self.sources += list(sources) if sources else [""] * len(e)

    def identify(self, embeddings: np.ndarray) -> list[tuple[str, float]]:
        """(name or ``unknown``, distance to the nearest embedding of that name) for each row."""
        q = np.asarray(embeddings, np.float32).reshape(-1, self.embeddings.shape[1])
        if not len(self) or not len(q):
            return [(UNKNOWN, float("inf"))] * len(q)
        d = np.sqrt(((q[:, None, :] - self.embeddings[None]) ** 2).sum(-1))
        out = []
        for row in d:
            near = [i for i in np.argsort(row)[: self.k] if row[i] < self.threshold]
            if not near:
                out.append((UNKNOWN, float(row.min())))
                continue
            votes = Counter(self.names[i] for i in near)
            nearest: dict[str, float] = {}
            for i in near:  # ``near`` is sorted: a name's first entry is its closest
                nearest.setdefault(self.names[i], float(row[i]))
            best = max(nearest, key=lambda n: (votes[n], -nearest[n]))
            out.append((best, nearest[best]))
        return out

    def save(self, path: str | os.PathLike) -> None:
        meta = {
            "format": "ferkit-gallery",
            "version": 3,
            "embedder": self.embedder,
            "mirror": self.mirror,
            "texture": self.texture,
            "threshold": self.threshold,
            "k": self.k,
            "names": self.names,
            "sources": self.sources,
        }
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, embeddings=self.embeddings, meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Gallery":
        path = Path(path)
        if not path.is_file():
            raise BadInputError(f"{path}: gallery file not found (create it with `ferkit enroll`)")
        try:
            with np.load(path, allow_pickle=False) as z:
                emb, meta = z["embeddings"], json.loads(str(z["meta"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, EOFError) as e:
            raise BadInputError(f"{path}: not a readable ferkit gallery ({type(e).__name__}: {e})") from e
        if meta.get("format") != "ferkit-gallery" or emb.ndim != 2 or len(emb) != len(meta.get("names", [])):
            raise BadInputError(f"{path}: not a ferkit gallery (wrong format or inconsistent sizes)")
        # version 1 files did not record the mirror mode (taken as configured); versions 1-2 had no texture part
        texture = meta.get("texture", {**IDENTITY_TEXTURE, "weight": 0.0})
        g = cls(meta["embedder"], meta["threshold"], meta["k"], bool(meta.get("mirror", IDENTITY_MIRROR)), texture)
        if emb.shape[1] != g.embeddings.shape[1]:
            raise BadInputError(
                f"{path}: embeddings of {emb.shape[1]} values, but its texture settings {texture} "
                f"make {g.embeddings.shape[1]}: a damaged gallery"
            )
        g.embeddings, g.names, g.sources = emb.astype(np.float32), list(meta["names"]), list(meta["sources"])
        return g
