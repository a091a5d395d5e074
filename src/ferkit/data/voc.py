"""Box annotations (folder or archive): PASCAL VOC XML (one file per image) and dlib imglab XML
(``<images><image file=...><box top= left= width= height=/>``): images with their face boxes."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from ..errors import DatasetLayoutError
from ..io import decode_image
from .sources import FileSource


@dataclass
class BoxedImage:
    name: str
    image: np.ndarray
    boxes: np.ndarray  # (K, 4) x1, y1, x2, y2
    labels: list[str]


def load_voc(root: str | os.PathLike, classes: tuple[str, ...] | None = None) -> list[BoxedImage]:
    """Every ``*.xml`` annotation with its image (looked up by ``<filename>`` anywhere in ``root``); every object
    counts unless ``classes`` names the ones to keep."""
    source = FileSource(root)
    names = source.names()
    xmls = [n for n in names if n.lower().endswith(".xml")]
    by_base = {n.rsplit("/", 1)[-1]: n for n in names if not n.lower().endswith(".xml")}
    if not xmls:
        raise DatasetLayoutError(f"{root}: no PASCAL VOC .xml annotations found")
    items: dict[str, tuple[np.ndarray, list[str]]] = {}
    for xml_name, data in source.read_many(xmls):
        try:
            tree = ET.fromstring(data)
        except ET.ParseError as e:
            raise DatasetLayoutError(f"{root}:{xml_name}: not valid XML ({e})") from e
        parsed = _imglab(tree) if tree.tag == "dataset" else [_voc(tree, classes)]
        for fname, boxes, labels in parsed:
            if fname not in by_base:
                raise DatasetLayoutError(f"{root}:{xml_name}: image {fname!r} not found")
            items.setdefault(fname, (boxes, labels))  # dlib's *_with_face_landmarks.xml repeat the same boxes
    images = dict(source.read_many([by_base[f] for f in items]))
    return [BoxedImage(f, decode_image(images[by_base[f]], f), b, lab) for f, (b, lab) in items.items()]


def _voc(tree: ET.Element, classes: tuple[str, ...] | None) -> tuple[str, np.ndarray, list[str]]:
    boxes, labels = [], []
    for obj in tree.iter("object"):
        label = (obj.findtext("name") or "").strip()
        bb = obj.find("bndbox")
        if bb is None or (classes and label not in classes):
            continue
        boxes.append([float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")])
        labels.append(label)
    return (tree.findtext("filename") or "").strip(), np.array(boxes, float).reshape(-1, 4), labels


def _imglab(tree: ET.Element) -> list[tuple[str, np.ndarray, list[str]]]:
    out = []
    for img in tree.iter("image"):
        boxes = [[float(b.get("left")), float(b.get("top")), float(b.get("left")) + float(b.get("width")),
                  float(b.get("top")) + float(b.get("height"))] for b in img.iter("box") if b.get("ignore") != "1"]
        out.append((img.get("file", ""), np.array(boxes, float).reshape(-1, 4), ["face"] * len(boxes)))
    return out
