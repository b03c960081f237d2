"""Inference behind one contract (ONNX Runtime, TensorRT, Keras), the ModelSpec model card,
the TensorRT engine cache and the bundled trained model."""

from lanecam.engines.base import Engine
from lanecam.engines.loader import ENGINE_NAMES, default_model_path, open_engine, register_engine
from lanecam.engines.modelspec import ModelSpec, spec_path_for

__all__ = ["ModelSpec", "spec_path_for", "Engine", "open_engine", "default_model_path",
           "register_engine", "ENGINE_NAMES"]
