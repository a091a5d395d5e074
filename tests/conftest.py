"""Shared fixtures: the project's shared datasets (../shared/data or $FERKIT_SHARED_DATA), demo media."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "src/ferkit/assets/examples"
SOLVAY = EXAMPLES / "Solvay_conference_1927.jpg"
CLIP = EXAMPLES / "tears_of_steel_clip_640x360_10s.mp4"
SHARED = Path(os.environ.get("FERKIT_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "fer2013_images.zip").exists():
        pytest.skip(f"shared datasets not found at {SHARED} (set FERKIT_SHARED_DATA)")
    return SHARED


@pytest.fixture(scope="session")
def fer_zip(shared) -> Path:
    return shared / "fer2013_images.zip"


@pytest.fixture(scope="session")
def demo(shared, tmp_path_factory) -> Path:
    """The extracted demo_media folder (group photos, portraits, the 10 s video)."""
    root = tmp_path_factory.mktemp("demo")
    with tarfile.open(shared / "demo_media.tar") as t:
        t.extractall(root, filter="data")
    return root / "demo_media"


@pytest.fixture(scope="session")
def private_test(fer_zip):
    from ferkit.data import FER2013

    return FER2013(fer_zip, "PrivateTest")


def train_steps(model, x, y, params=None, steps: int = 6, lr: float = 1e-3) -> list[float]:
    """Adam steps of cross-entropy on one batch (only ``params`` learn, all by default); the losses."""
    import torch

    opt = torch.optim.Adam(model.parameters() if params is None else params, lr)
    losses = []
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def run_cli(*args: str, check: bool | None = None, module: str = "ferkit.cli.main") -> subprocess.CompletedProcess:
    """Run ``ferkit ARGS`` in a subprocess (as a user would), capturing output."""
    p = subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True, cwd=REPO)
    if check is True:
        assert p.returncode == 0, p.stderr
    return p


def run_lab(*args: str, check: bool | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m lab ARGS`` (the repository's report and ship steps) from the repository root."""
    return run_cli(*args, check=check, module="lab")
