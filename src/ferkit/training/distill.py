"""Knowledge distillation losses (Hinton et al. 2015; papers 000 and 003), shared by every student."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    temperature: float = 10.0,
    alpha: float = 0.1,
) -> torch.Tensor:
    """L = alpha * CE(labels, student) + (1 - alpha) * T^2 * KL(teacher_T || student_T).

    ``teacher_T`` and ``student_T`` are the softmax of the logits divided by T; the KL divergence takes the
    teacher's softened distribution as the target (Keras' ``KLDivergence(teacher, student)``, as paper 000's
    distiller uses), averaged over the batch. Defaults are paper 000's T = 10, alpha = 0.1. The teacher's
    logits are detached: only the student learns."""
    t = temperature
    hard = F.cross_entropy(student_logits, labels)
    soft = F.kl_div(
        F.log_softmax(student_logits / t, -1),
        F.log_softmax(teacher_logits.detach() / t, -1),
        reduction="batchmean",
        log_target=True,
    )
    return alpha * hard + (1 - alpha) * t * t * soft


def soft_label_loss(student_logits: torch.Tensor, target_probs: torch.Tensor, smoothing: float = 0.1) -> torch.Tensor:
    """EmoXNetLite-style (paper 003): cross-entropy on the teacher ensemble's soft labels, label-smoothed:
    target = (1 - smoothing) * p_teacher + smoothing / C."""
    c = target_probs.shape[-1]
    target = (1 - smoothing) * target_probs + smoothing / c
    return torch.sum(-target * F.log_softmax(student_logits, -1), -1).mean()
