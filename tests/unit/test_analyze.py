"""``ferkit analyze`` and the Python API on real photos and the real video; bad input."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42 this is not a real video"])
def test_bad_video_writes_nothing(tmp_path, content):
    src = tmp_path / "clip.mp4"
    src.write_bytes(content)
    p = run_cli("analyze", src, "--out", tmp_path / "out")
    assert p.returncode != 0
    assert "clip.mp4" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    leftovers = [f for f in (tmp_path / "out").glob("*") if f.is_file()] if (tmp_path / "out").exists() else []
    assert leftovers == []
