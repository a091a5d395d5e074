"""Export the MTCNN P/R/O-Nets (weights from facenet-pytorch, MIT) to the ONNX files ferkit ships.

Run once by developers (needs torch and `pip install --no-deps facenet-pytorch`):
    python scripts/export_mtcnn.py --out src/ferkit/assets/detectors/mtcnn
The exported nets take raw RGB pixels (0..255, NCHW float32); normalisation is inside.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import torch
from torch import nn


class _Base(nn.Module):
    def forward_norm(self, x: torch.Tensor) -> torch.Tensor:
        return (x - 127.5) * 0.0078125


class PNet(_Base):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1, self.conv4_2 = nn.Conv2d(32, 2, 1), nn.Conv2d(32, 4, 1)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(self.forward_norm(x))))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_1(x).softmax(1)[:, 1], self.conv4_2(x)


class RNet(_Base):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1, self.dense5_2 = nn.Linear(128, 2), nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(self.forward_norm(x))))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x)).permute(0, 3, 2, 1).flatten(1)
        x = self.prelu4(self.dense4(x))
        return self.dense5_1(x).softmax(1)[:, 1], self.dense5_2(x)


class ONet(_Base):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1, self.dense6_2, self.dense6_3 = nn.Linear(256, 2), nn.Linear(256, 4), nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(self.forward_norm(x))))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x)).permute(0, 3, 2, 1).flatten(1)
        x = self.prelu5(self.dense5(x))
        return self.dense6_1(x).softmax(1)[:, 1], self.dense6_2(x), self.dense6_3(x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="src/ferkit/assets/detectors/mtcnn")
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    weights = Path(importlib.util.find_spec("facenet_pytorch").submodule_search_locations[0]) / "data"
    specs = {
        "pnet": (PNet, (1, 3, 64, 64), ["prob", "reg"]),
        "rnet": (RNet, (1, 3, 24, 24), ["prob", "reg"]),
        "onet": (ONet, (1, 3, 48, 48), ["prob", "reg", "landmarks"]),
    }
    for name, (cls, shape, outputs) in specs.items():
        net = cls().eval()
        net.load_state_dict(torch.load(weights / f"{name}.pt", weights_only=True))
        axes = {"image": {0: "n", 2: "h", 3: "w"} if name == "pnet" else {0: "n"}}
        axes.update({o: {0: "n"} for o in outputs})
        torch.onnx.export(
            net,
            torch.rand(shape) * 255,
            out / f"{name}.onnx",
            input_names=["image"],
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
        print("wrote", out / f"{name}.onnx")


if __name__ == "__main__":
    main()
