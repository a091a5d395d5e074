"""Box annotations (folder or archive): PASCAL VOC XML (one file per image), dlib imglab XML
(``<images><image file=...><box top= left= width= height=/>``) and WIDER FACE ``*_bbx_gt.txt`` lists (image path,
box count, then ``x y w h ...`` per box): images with their face boxes. Boxes a file marks as not to be scored
(VOC ``<difficult>1``, imglab ``ignore='1'``, WIDER's invalid flag) are kept apart as ``ignore`` boxes: evaluation
neither credits nor penalises a detection on one, as VOC's does, and training leaves them out."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ferkit.errors import DatasetLayoutError
from ferkit.utils.io import decode_image

from .sources import FileSource


@dataclass
class BoxedImage:
    name: str
    image: np.ndarray
    boxes: np.ndarray  # (K, 4) x1, y1, x2, y2
    labels: list[str]
    ignore: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # (J, 4) boxes not scored (difficult)


def held_out(names: list[str], every: int = 3) -> set[str]:
    """Every ``every``-th image name in sorted order: the test images of a box set that detectors are trained on
    (``ferkit train-detector``); the rest are theirs."""
    return {n for i, n in enumerate(sorted(names)) if i % every == every - 1}


def benchmark_items(root: str | os.PathLike) -> list[BoxedImage]:
    """A box set's images for scoring detectors: all of them, except that a face-mask set (whose name holds "mask":
    the set ferkit's detector is fine-tuned on) keeps only its ``held_out`` test third."""
    loaded = load_voc(root)
    if "mask" not in Path(root).name:
        return loaded
    keep = held_out([i.name for i in loaded])
    return [i for i in loaded if i.name in keep]


def train_val_test(
    items: list[BoxedImage], validate_every: int = 5
) -> tuple[list[BoxedImage], list[BoxedImage], set[str]]:
    """(training, validation, held-out test names) of a box set that a model is trained on: the ``held_out`` test
    images; of the others with boxes (sorted by name), every ``validate_every``-th validates, the rest train."""
    test = held_out([i.name for i in items])
    rest = sorted((i for i in items if i.name not in test and len(i.boxes)), key=lambda i: i.name)
    return (
        [i for k, i in enumerate(rest) if k % validate_every != validate_every - 1],
        rest[validate_every - 1 :: validate_every],
        test,
    )


def load_voc(root: str | os.PathLike, classes: tuple[str, ...] | None = None) -> list[BoxedImage]:
    """Every ``*.xml`` annotation with its image (looked up by ``<filename>`` anywhere in ``root``); every object
    counts unless ``classes`` names the ones to keep."""
    source = FileSource(root)
    names = source.names()
    xmls = [n for n in names if n.lower().endswith(".xml")]
    wider = [n for n in names if n.endswith("_bbx_gt.txt")]
    by_base = {n.rsplit("/", 1)[-1]: n for n in names if not n.lower().endswith(".xml")}
    if wider and not xmls:
        return _wider(source, names, wider)
    if not xmls:
        raise DatasetLayoutError(f"{root}: no PASCAL VOC .xml annotations (nor a WIDER FACE *_bbx_gt.txt) found")
    items: dict[str, tuple[np.ndarray, list[str], np.ndarray]] = {}
    for xml_name, data in source.read_many(xmls):
        try:
            tree = ET.fromstring(data)
        except ET.ParseError as e:
            raise DatasetLayoutError(f"{root}:{xml_name}: not valid XML ({e})") from e
        parsed = _imglab(tree) if tree.tag == "dataset" else [_voc(tree, classes)]
        for fname, boxes, labels, ignore in parsed:
            if fname not in by_base:
                raise DatasetLayoutError(f"{root}:{xml_name}: image {fname!r} not found")
            items.setdefault(fname, (boxes, labels, ignore))  # dlib's *_with_face_landmarks.xml repeat the boxes
    images = dict(source.read_many([by_base[f] for f in items]))
    return [BoxedImage(f, decode_image(images[by_base[f]], f), b, lab, ign) for f, (b, lab, ign) in items.items()]


def _boxes(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, float).reshape(-1, 4)


def _voc(tree: ET.Element, classes: tuple[str, ...] | None) -> tuple[str, np.ndarray, list[str], np.ndarray]:
    boxes, labels, ignore = [], [], []
    for obj in tree.iter("object"):
        label = (obj.findtext("name") or "").strip()
        bb = obj.find("bndbox")
        if bb is None or (classes and label not in classes):
            continue
        box = [float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
        if (obj.findtext("difficult") or "0").strip() == "1":
            ignore.append(box)
        else:
            boxes.append(box)
            labels.append(label)
    return (tree.findtext("filename") or "").strip(), _boxes(boxes), labels, _boxes(ignore)


def _imglab(tree: ET.Element) -> list[tuple[str, np.ndarray, list[str], np.ndarray]]:
    out = []
    for img in tree.iter("image"):
        boxes: dict[bool, list] = {False: [], True: []}  # ignore="1": not scored
        for b in img.iter("box"):
            boxes[b.get("ignore") == "1"].append(
                [
                    float(b.get("left")),
                    float(b.get("top")),
                    float(b.get("left")) + float(b.get("width")),
                    float(b.get("top")) + float(b.get("height")),
                ]
            )
        out.append((img.get("file", ""), _boxes(boxes[False]), ["face"] * len(boxes[False]), _boxes(boxes[True])))
    return out


def _wider(source: FileSource, names: list[str], lists: list[str]) -> list[BoxedImage]:
    """WIDER FACE lists: images are looked up by their relative path (``0--Parade/0_Parade_....jpg``) at the end of
    a name in the source."""
    entries: list[tuple[str, np.ndarray, np.ndarray]] = []
    for list_name, data in source.read_many(lists):
        lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines()]
        k = 0
        try:
            while k < len(lines) and lines[k]:
                path, count = lines[k], int(lines[k + 1])
                rows = [ln.split() for ln in lines[k + 2 : k + 2 + max(count, 1)]]  # a 0-box image has one 0 row
                boxes: dict[bool, list] = {False: [], True: []}
                for r in rows[:count]:
                    if len(r) >= 4 and float(r[2]) > 0 and float(r[3]) > 0:
                        boxes[len(r) >= 8 and r[7] == "1"].append(  # invalid: not scored
                            [float(r[0]), float(r[1]), float(r[0]) + float(r[2]), float(r[1]) + float(r[3])]
                        )
                entries.append((path, _boxes(boxes[False]), _boxes(boxes[True])))
                k += 2 + max(count, 1)
        except (ValueError, IndexError) as e:
            raise DatasetLayoutError(f"{list_name}: not a WIDER FACE box list near line {k + 1} ({e})") from e
    found = {}
    for path, _, _ in entries:
        match = [n for n in names if n.endswith("/" + path) or n == path]
        if not match:
            raise DatasetLayoutError(f"image {path!r} of the WIDER list not found")
        found[path] = match[0]
    images = dict(source.read_many(list(found.values())))
    return [
        BoxedImage(p.rsplit("/", 1)[-1], decode_image(images[found[p]], p), b, ["face"] * len(b), ign)
        for p, b, ign in entries
    ]
