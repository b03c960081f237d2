"""Inference behind one contract (ONNX Runtime, TensorRT, Keras), the model cards (``InputSpec``,
``ModelSpec``) and how they are found, the TensorRT engine cache and the bundled trained model."""

from lanecam.engines.base import Engine, EngineStateError
from lanecam.engines.inputspec import InputSpec, find_spec
from lanecam.engines.loader import ENGINE_NAMES, default_model_path, open_engine, register_engine
from lanecam.engines.modelspec import ModelSpec, spec_path_for

__all__ = ["ModelSpec", "InputSpec", "spec_path_for", "find_spec", "Engine", "EngineStateError",
           "open_engine", "default_model_path", "register_engine", "ENGINE_NAMES"]
