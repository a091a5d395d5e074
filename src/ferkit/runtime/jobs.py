"""``ferkit analyze``: images, folders of images, video files and webcams -> results.json/.csv + annotations."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import FRAME_BATCH, FRAME_PREFETCH, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from ..errors import BadInputError, FerkitError
from ..io import read_image
from .analyzer import Analyzer
from .results import write_records
from .video import analyze_video


@dataclass
class AnalyzeReport:
    records: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def _analyze_images(analyzer: Analyzer, batch: list[tuple[Path, np.ndarray]], root: Path | None, out: Path,
                    annotate: bool, rep: AnalyzeReport) -> None:
    """Analyse images together (their faces classified in one batch); save annotated copies under out/annotated."""
    paths, images = zip(*batch)
    for f, res in zip(paths, analyzer.analyze_frames(list(images), [str(p) for p in paths])):
        rep.records += res.records(mark_empty=True)
        if annotate:
            rel = f.relative_to(root) if root else Path(f.name)
            dest = out / "annotated" / rel.with_suffix(".png" if f.suffix.lower() == ".png" else ".jpg")
            res.save(dest)
            rep.outputs.append(str(dest))


def source_kind(source: str) -> str:
    """'webcam', 'folder', 'video' or 'image'."""
    if source.isdigit():
        return "webcam"
    p = Path(source)
    if not p.exists():
        raise BadInputError(f"{source}: no such file or folder")
    if p.is_dir():
        return "folder"
    return "video" if p.suffix.lower() in VIDEO_EXTENSIONS else "image"


def image_files(source: str) -> list[Path]:
    """The image itself, or the image files under a folder (sorted); an error for a folder without any."""
    kind = source_kind(source)
    if kind == "image":
        return [Path(source)]
    if kind != "folder":
        raise BadInputError(f"{source}: a {kind}, not an image or a folder of images")
    files = sorted(f for f in Path(source).rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise BadInputError(f"{source}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in this folder")
    return files


def analyze_source(source: str, out: str | Path, analyzer: Analyzer, max_frames: int | None = None,
                   every: int = 1, annotate: bool = True, progress: bool = True, detect_every: int = 1,
                   smooth: float = 0.0, on_frame=None, prefetch_frames: int = FRAME_PREFETCH) -> AnalyzeReport:
    """Analyse ``source`` and write outputs into ``out``. Bad files in a folder are reported in
    ``errors`` and skipped; a bad single source raises ``BadInputError`` before anything is written."""
    from tqdm import tqdm

    kind = source_kind(source)
    out = Path(out)
    rep = AnalyzeReport()
    if kind in ("video", "webcam"):
        out.mkdir(parents=True, exist_ok=True)
        for r in analyze_video(analyzer, int(source) if kind == "webcam" else source, out, max_frames, every,
                               progress, annotate, detect_every, smooth, on_frame, prefetch_frames=prefetch_frames):
            rep.records += r.records()
    else:
        files = image_files(source)
        batch: list[tuple[Path, np.ndarray]] = []
        for i, f in enumerate(tqdm(files, unit="img", disable=None if progress and kind == "folder" else True)):
            try:
                batch.append((f, read_image(f)))
            except FerkitError as e:
                if kind == "image":
                    raise
                rep.errors.append(str(e))
            if batch and (len(batch) == FRAME_BATCH or i == len(files) - 1):
                _analyze_images(analyzer, batch, Path(source) if kind == "folder" else None, out, annotate, rep)
                batch = []
    write_records(rep.records, out / "results.json", out / "results.csv")
    rep.outputs += [str(out / "results.json"), str(out / "results.csv")]
    for e in rep.errors:
        print(f"ferkit: error: {e}", file=sys.stderr)
    return rep
