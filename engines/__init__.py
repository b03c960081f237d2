"""Inference behind one contract (ONNX Runtime, TensorRT, Keras), the ModelSpec model card,
the TensorRT engine cache and the bundled trained model."""

from engines.modelspec import ModelSpec, spec_path_for

__all__ = ["ModelSpec", "spec_path_for"]
