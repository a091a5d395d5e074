"""Pack MaskTheFace's mask templates (MIT) into ferkit/assets/masks, downscaled, with the mean face anchors
measured on FER2013 PublicTest (used to place a mask where no plausible landmarks are found).

    python scripts/pack_mask_templates.py ../shared/data/masktheface_masks.tar ../shared/data/fer2013_images.zip
"""

from __future__ import annotations

import argparse

import numpy as np

from ferkit.data import FER2013
from ferkit.face.landmarks import DETECTED, landmarks68
from ferkit.masks.synthesize import anchors_from_landmarks
from ferkit.masks.templates import load_templates, save_packaged


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("templates", help="MaskTheFace masks folder or masktheface_masks.tar")
    p.add_argument("fer2013", help="FER2013 (Kaggle folder / zip or fer2013.csv)")
    p.add_argument("--faces", type=int, default=1000, help="PublicTest faces used for the mean anchors")
    p.add_argument("--width", type=int, default=200, help="width of the packaged templates (px)")
    a = p.parse_args()
    ds = FER2013(a.fer2013, "PublicTest")
    side = ds.images.shape[1]
    anchors = []
    for img in ds.images[: a.faces]:
        lm = landmarks68(img, (0.0, 0.0, float(side)))
        if lm.method == DETECTED and lm.plausible:
            anchors.append(anchors_from_landmarks(lm.points) / side)
    mean = np.median(np.stack(anchors), 0)
    print(f"mean face anchors from {len(anchors)} of {a.faces} faces:", np.round(mean, 3).tolist())
    save_packaged(load_templates(a.templates), mean, a.width)


if __name__ == "__main__":
    main()
