"""Result objects: ``Face`` records and ``AnalysisResult`` with ``.plot()``, ``.save()``, ``.to_json()``,
``.to_pandas()``."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ferkit.config import EMOTIONS
from ferkit.utils.io import write_image_atomic, write_text_atomic


@dataclass
class Face:
    """One detected face: box [x1, y1, x2, y2] (px), detector score, predicted emotion and all class probabilities."""

    box: list[float]
    score: float
    emotion: str
    probabilities: dict[str, float]
    landmarks: list[list[float]] | None = None
    index: int = 0
    track_id: int | None = None
    identity: str | None = None
    identity_distance: float | None = None
    smoothed: dict[str, float] | None = None
    masked: bool | None = None  # ``analyze --masked on|auto``: sent to the masked-face model
    mask_probability: float | None = None  # ``--masked auto``: the mask detector's P(mask)
    model: str | None = None  # the expression model that classified the face (with --masked)
    uncertain: bool | None = None  # top calibrated probability under the calibration's threshold

    def to_dict(self) -> dict[str, Any]:
        d = {
            "face": self.index,
            "box": [round(v, 1) for v in self.box],
            "score": round(self.score, 4),
            "emotion": self.emotion,
            "probabilities": {k: round(v, 5) for k, v in self.probabilities.items()},
        }
        if self.uncertain is not None:
            d["uncertain"] = self.uncertain
        if self.track_id is not None:
            d["track"] = self.track_id
        if self.identity is not None:
            d["identity"] = self.identity
            d["identity_distance"] = round(self.identity_distance, 4) if self.identity_distance is not None else None
        if self.masked is not None:
            d["masked"], d["model"] = self.masked, self.model
            if self.mask_probability is not None:
                d["mask_probability"] = round(self.mask_probability, 4)
        if self.smoothed is not None:
            d["smoothed_emotion"] = max(self.smoothed, key=self.smoothed.get)
            d["smoothed_probabilities"] = {k: round(v, 5) for k, v in self.smoothed.items()}
        if self.landmarks is not None:
            d["landmarks"] = [[round(x, 1), round(y, 1)] for x, y in self.landmarks]
        return d


@dataclass
class AnalysisResult:
    """The faces of one image or video frame. ``image`` is kept for ``plot``/``save``."""

    source: str
    faces: list[Face]
    frame: int | None = None
    image: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.faces)

    def records(self, mark_empty: bool = False) -> list[dict[str, Any]]:
        """One flat dict per face, with the source and frame index; with ``mark_empty``, an image without a face
        gets one record saying so (``"no_face": true``, face and emotion null)."""
        if not self.faces and mark_empty:
            return [{"source": self.source, "frame": self.frame, "face": None, "emotion": None, "no_face": True}]
        return [{"source": self.source, "frame": self.frame, **f.to_dict()} for f in self.faces]

    def to_json(self) -> str:
        return json.dumps(self.records(), indent=2)

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(flat_rows(self.records()))

    def plot(self) -> np.ndarray:
        """The image annotated with boxes, labels and probability bars (BGR)."""
        from ferkit.app.draw import annotate

        if self.image is None:
            raise ValueError("this result holds no image to plot")
        return annotate(self.image, self.faces, note="no face found" if not self.faces and self.frame is None else "")

    def save(self, path: str | os.PathLike) -> None:
        """Write the annotated image (atomically)."""
        write_image_atomic(path, self.plot())


def flat_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CSV/DataFrame rows: box split into x1..y2 and one ``p_<class>`` column per probability."""
    rows = []
    for r in records:
        row = {k: v for k, v in r.items() if k not in ("box", "probabilities", "landmarks")}
        row.update(zip(("x1", "y1", "x2", "y2"), r.get("box", ())))
        row.update({f"p_{k}": v for k, v in r.get("probabilities", {}).items()})
        rows.append(row)
    return rows


#: The CSV's first columns, whatever the records hold (then one p_<class> per class, then any others).
CSV_COLUMNS = ("source", "frame", "face", "score", "emotion", "x1", "y1", "x2", "y2")


def write_records(
    records: list[dict[str, Any]],
    json_path: str | os.PathLike,
    csv_path: str | os.PathLike,
    classes: tuple[str, ...] = EMOTIONS,
) -> None:
    """Write face records as JSON (a list) and CSV, each atomically; the CSV always has the box and a ``p_<class>``
    column per class (empty for a record without a face)."""
    write_text_atomic(json_path, json.dumps(records, indent=2) + "\n")
    rows = flat_rows(records)
    columns: list[str] = [*CSV_COLUMNS, *(f"p_{c}" for c in classes)]
    for row in rows:
        columns += [c for c in row if c not in columns]
    buf = io.StringIO()
    w = csv.DictWriter(buf, columns)
    w.writeheader()
    w.writerows(rows)
    write_text_atomic(csv_path, buf.getvalue())
