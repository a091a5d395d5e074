"""``ferkit serve``: the analysis pipeline as a web service (FastAPI) with a browser app (the ``serve`` extra)."""

from .settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str):
    if name == "create_app":  # FastAPI is imported only when an app is made
        from .app import create_app

        return create_app
    raise AttributeError(name)
