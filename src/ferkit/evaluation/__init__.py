"""Evaluation: metrics, confusion-matrix pictures, ``evaluate`` on a dataset split."""

from .metrics import classification_report, confusion_matrix

__all__ = ["classification_report", "confusion_matrix"]
