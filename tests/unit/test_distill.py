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


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_student_soft_label_mode_mixes_hard_and_teacher_targets(alpha):
    """Recipe ``kd_loss="soft_labels"``: alpha * CE(hard labels, recipe smoothing) + (1 - alpha) * EmoXNetLite loss
    on the teacher's probabilities (the stored file holds log-probabilities); alpha 0 is paper 003's loss."""
    from ferkit.training.module import ExpressionModule
    from ferkit.training.recipes import get_recipe

    recipe = get_recipe("ferkit", kd_loss="soft_labels", kd_alpha=alpha).to_dict()
    module = ExpressionModule("ferkit_cnn_s", 3, recipe)
    s, p, y = [[0.3, -0.2, 1.0]], [0.7, 0.2, 0.1], 0
    smooth = recipe["label_smoothing"]
    hard_target = [(1 - smooth) * (c == y) + smooth / 3 for c in range(3)]
    soft_target = [(1 - smooth) * q + smooth / 3 for q in p]
    ce = lambda target: -sum(q * math.log(r) for q, r in zip(target, _softmax(s[0])))  # noqa: E731
    expected = alpha * ce(hard_target) + (1 - alpha) * ce(soft_target)
    teacher = torch.log(torch.tensor([p]))
    got = module._distillation_loss(torch.tensor(s), teacher, torch.tensor([y])).item()
    assert got == pytest.approx(expected, rel=1e-5)


def test_unknown_distillation_loss_is_refused():
    from ferkit.training.module import ExpressionModule
    from ferkit.training.recipes import get_recipe

    module = ExpressionModule("ferkit_cnn_s", 3, get_recipe("ferkit", kd_loss="nope").to_dict())
    with pytest.raises(ValueError, match="unknown distillation loss"):
        module._distillation_loss(torch.zeros(1, 3), torch.zeros(1, 3), torch.tensor([0]))


def test_teach_averages_stored_teachers(tmp_path):
    """`ferkit teach --average A B`: the mean of the teachers' probabilities on the faces both cover."""
    import json

    import numpy as np

    from ferkit.training.teacher import TeacherOutputs
    from tests.conftest import run_cli

    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(7), size=(2, 4)).astype(np.float32)
    TeacherOutputs(np.array(["a", "b", "c", "d"]), np.log(p[0]), "one", "Training").save(tmp_path / "a.npz")
    TeacherOutputs(np.array(["d", "c", "b", "x"]), np.log(p[1]), "two", "Training").save(tmp_path / "b.npz")
    out = tmp_path / "ab.npz"
    r = run_cli("teach", "--average", tmp_path / "a.npz", tmp_path / "b.npz", "--out", out, check=True)
    assert json.loads(r.stdout)["faces"] == 3
    t = TeacherOutputs.load(out)
    assert t.keys.tolist() == ["b", "c", "d"] and t.model == "one+two"
    expect = (p[0][[1, 2, 3]] + p[1][[2, 1, 0]]) / 2
    np.testing.assert_allclose(np.exp(t.logits), expect, atol=1e-5)
    bad = run_cli("teach", "--average", tmp_path / "nope.npz", "--out", out)
    assert bad.returncode == 2 and "nope.npz" in bad.stderr
