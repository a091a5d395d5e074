"""Distillation losses equal their formulas on known logits."""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch", reason="distillation needs the train extra")

from ferkit.training.distill import kd_loss, soft_label_loss  # noqa: E402


def _softmax(v, t=1.0):
    e = [math.exp(x / t) for x in v]
    return [x / sum(e) for x in e]


@pytest.mark.parametrize("t,a", [(10.0, 0.1), (4.0, 0.5), (1.0, 1.0)])
def test_kd_loss_matches_formula(t, a):
    s = [[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]
    te = [[1.0, 1.5, -0.5], [-1.0, 0.0, 2.0]]
    y = [0, 2]
    expected = 0.0
    for si, ti, yi in zip(s, te, y):
        ce = -math.log(_softmax(si)[yi])
        ps, pt = _softmax(si, t), _softmax(ti, t)
        kl = sum(q * math.log(q / p) for p, q in zip(ps, pt))
        expected += a * ce + (1 - a) * t * t * kl
    expected /= len(s)
    student = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    teacher = torch.tensor(te, dtype=torch.float64, requires_grad=True)
    loss = kd_loss(student, teacher, torch.tensor(y), t, a)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert teacher.grad is None and student.grad is not None  # the teacher is frozen


def test_soft_label_loss_matches_formula():
    s, p = [0.3, -0.2, 1.0], [0.7, 0.2, 0.1]
    target = [0.9 * q + 0.1 / 3 for q in p]
    expected = -sum(q * math.log(r) for q, r in zip(target, _softmax(s)))
    got = soft_label_loss(torch.tensor([s]), torch.tensor([p]), 0.1).item()
    assert got == pytest.approx(expected, rel=1e-6)
