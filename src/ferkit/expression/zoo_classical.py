"""Registrations of the classical (scikit-learn) models of papers 002 and 004 (imported lazily)."""

from __future__ import annotations

from . import classical
from .registry import register_model


@register_model("knn_pixels", "KNN on raw pixels (k=3, L1, distance weights)", paper="002", kind="classical")
def knn_pixels(num_classes: int = 7, **kw):
    return classical.knn("pixels", **kw)


@register_model("knn_hist", "KNN on grey-level histograms (k=3, L1, distance weights)", paper="002", kind="classical")
def knn_hist(num_classes: int = 7, **kw):
    return classical.knn("hist", **kw)


@register_model("mlp_1024", "MLP 1024-1024-64-32-7 on pixels (relu | logistic | tanh)", paper="002", kind="classical")
def mlp_1024(num_classes: int = 7, **kw):
    return classical.mlp(**kw)


@register_model("svm_hog", "SVM on HOG features (rbf | poly | linear kernel)", paper="004", kind="classical")
def svm_hog(num_classes: int = 7, **kw):
    return classical.svm("hog", **kw)


@register_model("svm_pixels", "SVM on raw pixels (rbf | poly | linear kernel)", paper="004", kind="classical")
def svm_pixels(num_classes: int = 7, **kw):
    return classical.svm("pixels", **kw)


@register_model(
    "svm_landmarks",
    "SVM on dlib's 68 landmarks (normalised geometry; needs the dlib extra)",
    paper="004",
    kind="classical",
)
def svm_landmarks(num_classes: int = 7, **kw):
    return classical.svm("landmarks", **kw)
