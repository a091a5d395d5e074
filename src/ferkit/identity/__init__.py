"""Identity: face embeddings, a gallery of enrolled people, and matching (name or ``unknown``)."""
from .embedder import DlibEmbedder
from .gallery import Gallery, UNKNOWN

__all__ = ["DlibEmbedder", "Gallery", "UNKNOWN"]
