"""Reports: a JSON file and its Markdown twin with the same figures, written together by one command."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from ferkit.utils.io import write_json_atomic, write_text_atomic


def command_line() -> str:
    """The command that is running, as a user would type it."""
    prog = Path(sys.argv[0])
    if prog.name in ("ferkit", "main.py"):
        return shlex.join(["ferkit", *sys.argv[1:]])
    if prog.name == "__main__.py":  # python -m PACKAGE
        return shlex.join(["python", "-m", prog.parent.name, *sys.argv[1:]])
    rel = prog.relative_to(Path.cwd()) if prog.is_absolute() and prog.is_relative_to(Path.cwd()) else prog
    return shlex.join(["python", str(rel), *sys.argv[1:]])


def _md_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_md_value(x)}" for k, x in v.items())
    if isinstance(v, list):
        return f"{len(v)} items" if v and isinstance(v[0], list) else ", ".join(map(_md_value, v))
    return str(v)


def markdown_table(d: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    rows = [f"| {k} | {_md_value(v)} |" for k, v in d.items() if k not in skip]
    return "| figure | value |\n|---|---|\n" + "\n".join(rows) + "\n"


def write_report(
    json_path: str | Path, data: dict[str, Any], title: str, extra_md: str = "", tabled: tuple[str, ...] = ()
) -> None:
    """Write ``data`` (with the producing command added) as JSON and a ``.md`` twin beside it (keys in ``tabled``
    left out of the summary table: ``extra_md`` shows them)."""
    json_path = Path(json_path)
    data = {**data, "command": data.get("command") or command_line()}
    write_json_atomic(json_path, data)
    md = (
        f"# {title}\n\n*Written by `{data['command']}`; the JSON twin is `{json_path.name}`.*\n\n"
        + markdown_table(data, skip=("command", "confusion_matrix", "per_class", *tabled))
        + extra_md
    )
    write_text_atomic(json_path.with_suffix(".md"), md)
