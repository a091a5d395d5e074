"""``ferkit evaluate`` with the shipped default model on FER2013 and on a class-per-folder archive."""

from __future__ import annotations

from ferkit.expression.registry import list_models
from tests.conftest import run_cli


def test_models_lists_the_shipped_default():
    rows = {r["name"]: r for r in list_models()}
    assert rows["ferkit_cnn_s"]["shipped"] and rows["ferkit_cnn_s"]["privatetest_accuracy"] >= 0.65
    p = run_cli("models", check=True)
    assert "ferkit_cnn_s" in p.stdout and "PrivateTest" in p.stdout
