"""The ``fer`` package (justinshenk/fer: its Haar cascade and mini-Xception, defaults) on labelled photos: the label of
the largest face of each. Runs inside fer's own environment (imports nothing from ferkit), for
scripts/real_photos.py --vs-fer PYTHON. Prints one JSON object: fer's version and one label (or null) per image.
    FER_PYTHON scripts/peer_fer_photos.py --images DIR --names names.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--names", required=True, help="JSON list of file names under --images")
    a = ap.parse_args()
    import cv2
    from fer.fer import FER

    det = FER()
    labels = []
    for name in json.loads(Path(a.names).read_text()):
        faces = det.detect_emotions(cv2.imread(str(Path(a.images) / name)))
        if not faces:
            labels.append(None)
            continue
        face = max(faces, key=lambda f: f["box"][2] * f["box"][3])
        labels.append(max(face["emotions"], key=face["emotions"].get))
    print(
        json.dumps(
            {"tool": "fer", "version": __import__("importlib.metadata").metadata.version("fer"), "labels": labels}
        )
    )


if __name__ == "__main__":
    main()
