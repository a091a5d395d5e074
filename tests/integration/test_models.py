"""Every registered torch model builds, runs on a real batch of FER2013 faces and learns it (falling loss)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch models need the train extra")

from ferkit.expression.nets import WithPreprocessing  # noqa: E402
from ferkit.expression.registry import _REGISTRY, _load_builders, create_model  # noqa: E402
from tests.conftest import train_steps  # noqa: E402

_load_builders()
TORCH_MODELS = sorted(n for n, e in _REGISTRY.items() if e.kind == "torch")


@pytest.fixture(scope="module")
def batch(private_test):
    idx = np.array([np.flatnonzero(private_test.labels == c)[0] for c in range(7)])  # one face per class
    return torch.from_numpy(private_test.images[idx, None].astype(np.float32)), torch.from_numpy(
        private_test.labels[idx]
    )


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_model_forward_and_learns(name, batch):
    torch.manual_seed(0)
    x, y = batch
    model = WithPreprocessing(create_model(name, num_classes=7), softmax=False)
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (len(x), 7)
    model.train()
    losses = train_steps(model, x, y)
    assert min(losses[-3:]) < losses[0], f"{name}: {losses}"


def test_vgglike_stems_keep_the_output_size_and_reject_unknown_names(batch):
    from ferkit.expression.nets import VGGLike

    x = batch[0][:4]
    shapes = {stem: VGGLike(stem=stem).features(x).shape for stem in ("pool", "stride2", "s2d")}
    assert len(set(shapes.values())) == 1, shapes
    with pytest.raises(ValueError, match="unknown stem"):
        VGGLike(stem="stride3")
