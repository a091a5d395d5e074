"""Identity: face embeddings, a gallery of enrolled people, and matching (name or ``unknown``)."""

from .embedder import DlibEmbedder
from .gallery import UNKNOWN, Gallery

__all__ = ["DlibEmbedder", "Gallery", "UNKNOWN"]
