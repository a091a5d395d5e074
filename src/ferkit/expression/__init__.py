"""Expression models: the registry (``create_model``), torch architectures, classical models, ONNX inference."""

from .registry import create_model, list_models, model_card, register_model, shipped_models

__all__ = ["create_model", "list_models", "model_card", "register_model", "shipped_models"]
