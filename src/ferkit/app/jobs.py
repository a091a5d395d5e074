"""``ferkit analyze``: images, folders, videos and webcams (several at once) -> results.json/.csv + annotations."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ferkit.app.analyzer import Analyzer
from ferkit.app.results import write_records
from ferkit.app.settings import AnalyzeSettings
from ferkit.app.video import VIDEO_OUTPUTS, analyze_video
from ferkit.config import FRAME_BATCH, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from ferkit.errors import BadInputError, BadOptionError, FerkitError
from ferkit.utils.io import read_image


@dataclass
class AnalyzeReport:
    records: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """One input of a job: ``kind`` image | folder | video | webcam."""

    name: str
    kind: str


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


def check_sources(sources: list[str]) -> list[Source]:
    """Each source with its kind; a missing one, or a webcam beside other sources, is an error (nothing loaded)."""
    if not sources:
        raise BadOptionError("no source given: an image, folder, video or webcam index")
    found = [Source(s, source_kind(s)) for s in sources]
    if len(found) > 1 and any(s.kind == "webcam" for s in found):
        raise BadOptionError("a webcam is analysed alone: give it as the only source")
    return found


def check_out(out: str | Path) -> Path:
    """``out`` as a folder that can be written: an existing file, or a place that cannot be written, is an error
    (nothing is created here)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadOptionError(f"--out: {out} exists and is not a folder")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise BadOptionError(f"--out: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadOptionError(f"--out: cannot write in {parent} (permission denied or read-only)")
    return out


def is_output(f: Path, out: Path, root: Path) -> bool:
    """Whether ``f``, found under the input folder ``root``, is (or may be) an output of a job writing to ``out``:
    anything under ``out`` when ``out`` lies inside ``root``; when they are the same folder, its ``annotated/``
    folder and the video plots and videos analyze writes there."""
    f, out, root = f.resolve(), out.resolve(), root.resolve()
    if not f.is_relative_to(out):
        return False
    if out != root:
        return True
    video_outputs = tuple(VIDEO_OUTPUTS.values())
    return f.is_relative_to(out / "annotated") or (f.parent == out and f.name.endswith(video_outputs))


def image_files(source: str, exclude: Path | None = None) -> list[Path]:
    """The image itself, or the image files under a folder (sorted), leaving out the outputs of a job writing to
    ``exclude`` (``is_output``); an error for a folder without any."""
    kind = source_kind(source)
    if kind == "image":
        return [Path(source)]
    if kind != "folder":
        raise BadInputError(f"{source}: a {kind}, not an image or a folder of images")
    root = Path(source)
    files = sorted(
        f
        for f in root.rglob("*")
        if f.is_file()
        and f.suffix.lower() in IMAGE_EXTENSIONS
        and not (exclude is not None and is_output(f, exclude, root))
    )
    if not files:
        raise BadInputError(f"{source}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in this folder")
    return files


def annotated_name(rel: Path) -> Path:
    """Where an image's annotated copy goes under ``annotated/``: its relative path, with ``.jpg`` (``.png`` for
    PNG inputs) appended unless it already ends so; img.jpg, img.jpeg and img.JPG stay three files."""
    ext = ".png" if rel.suffix.lower() == ".png" else ".jpg"
    return rel if rel.suffix == ext else rel.with_name(rel.name + ext)


def unique(names: list[str]) -> list[str]:
    """``names`` made distinct (case-insensitively, as some file systems compare them): repeats get ``~2``, ``~3``
    before the extension."""
    seen: set[str] = set()
    out = []
    for n in names:
        stem, dot, ext = n.rpartition(".") if "." in Path(n).name else (n, "", "")
        cand, k = n, 2
        while cand.lower() in seen:
            cand = f"{stem}~{k}{dot}{ext}" if dot else f"{n}~{k}"
            k += 1
        seen.add(cand.lower())
        out.append(cand)
    return out


def _image_jobs(sources: list[Source], out: Path) -> list[tuple[Path, Path]]:
    """(image file, annotated path relative to annotated/) for every image of the image and folder sources."""
    several = len(sources) > 1
    jobs = []
    for s in sources:
        if s.kind == "image":
            jobs.append((Path(s.name), Path(Path(s.name).name)))
        elif s.kind == "folder":
            root = Path(s.name)
            for f in image_files(s.name, exclude=out):
                rel = f.relative_to(root)
                jobs.append((f, Path(root.resolve().name) / rel if several else rel))
    names = unique([annotated_name(rel).as_posix() for _, rel in jobs])
    return [(f, Path(n)) for (f, _), n in zip(jobs, names)]


def analyze_sources(
    sources: list[str],
    out: str | Path,
    analyzer: Analyzer,
    settings: AnalyzeSettings = AnalyzeSettings(),
    progress: bool = True,
    on_frame=None,
) -> AnalyzeReport:
    """Analyse ``sources`` (images, folders, videos, or one webcam) with ``settings``' video and output options and
    write every face record into ``out``/results.{json,csv}. Files inside ``out`` are never inputs; a rerun writes
    the same files again (overwriting exactly its own). A bad file among several inputs is reported in ``errors``
    and skipped; a bad single image raises ``BadInputError`` before anything is written."""
    found = check_sources(sources)
    out = check_out(out)
    created = not out.exists()
    try:
        return _analyze(found, out, analyzer, settings, progress, on_frame)
    except OSError as e:  # the output cannot be written
        raise BadOptionError(f"--out: cannot write {e.filename or out} ({e.strerror or e})") from None
    finally:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed job leaves no empty folder behind


def _analyze(
    found: list[Source], out: Path, analyzer: Analyzer, settings: AnalyzeSettings, progress: bool, on_frame
) -> AnalyzeReport:
    from tqdm import tqdm

    rep = AnalyzeReport()
    images = _image_jobs(found, out)
    single = len(found) == 1 and found[0].kind == "image"
    videos = [s for s in found if s.kind in ("video", "webcam")]
    stems = unique([Path(s.name).stem if s.kind == "video" else f"webcam{s.name}" for s in videos])
    if any(Path(s.name).stem != stem for s, stem in zip(videos, stems) if s.kind == "video"):
        stems = unique([Path(s.name).name if s.kind == "video" else f"webcam{s.name}" for s in videos])
    for s, stem in zip(videos, stems):
        try:
            for r in analyze_video(
                analyzer,
                int(s.name) if s.kind == "webcam" else s.name,
                out,
                settings,
                progress=progress,
                on_frame=on_frame,
                stem=stem,
            ):
                rep.records += r.records()
        except BadInputError as e:
            if len(found) == 1:
                raise
            rep.errors.append(str(e))
    batch: list[tuple[Path, Path, np.ndarray]] = []
    show = progress and not single
    for i, (f, rel) in enumerate(tqdm(images, unit="img", disable=None if show else True)):
        try:
            batch.append((f, rel, read_image(f, max_pixels=settings.max_pixels)))
        except FerkitError as e:
            if single:  # nothing is written yet: a bad single image leaves nothing behind
                raise
            rep.errors.append(str(e))
        if batch and (len(batch) == FRAME_BATCH or i == len(images) - 1):
            _analyze_images(analyzer, batch, out, settings.annotate, rep)
            batch = []
    write_records(rep.records, out / "results.json", out / "results.csv", analyzer.model.classes)
    rep.outputs += [str(out / "results.json"), str(out / "results.csv")]
    for e in rep.errors:
        print(f"ferkit: error: {e}", file=sys.stderr)
    return rep


def _analyze_images(
    analyzer: Analyzer, batch: list[tuple[Path, Path, np.ndarray]], out: Path, annotate: bool, rep: AnalyzeReport
) -> None:
    """Analyse images together (their faces classified in one batch); save annotated copies under out/annotated."""
    paths, rels, images = zip(*batch)
    for rel, res in zip(rels, analyzer.analyze_frames(list(images), [str(p) for p in paths])):
        rep.records += res.records(mark_empty=True)
        if annotate:
            dest = out / "annotated" / rel
            res.save(dest)
            rep.outputs.append(str(dest))
