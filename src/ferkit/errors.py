"""Exceptions with messages meant for the user: one line naming the file and the problem."""

from __future__ import annotations


class FerkitError(Exception):
    """A user-facing error (bad input, missing weights, wrong layout). The CLI prints it on one line."""


class BadInputError(FerkitError):
    """An input file that cannot be read (not an image, truncated, empty video...)."""


class DatasetLayoutError(FerkitError):
    """A dataset path whose layout is not one of the supported ones."""


class UnknownNameError(FerkitError):
    """A model, detector or dataset name that no registry knows."""


class BadOptionError(FerkitError):
    """An option value out of range, of the wrong type, or naming nothing that exists (checked before any work)."""


def check_choice(value: str, choices: tuple[str, ...], option: str) -> None:
    """A ``BadOptionError`` naming ``option`` when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise BadOptionError(f"{option}: {value!r} is not one of {', '.join(choices)}")
