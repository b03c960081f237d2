"""An ``Engine`` around an in-memory Keras model, so that evaluation code written for the
runtime engines (``lanecam.tools.evaluate.Predictor``) can score a model while it trains."""

import time
from typing import Dict

import numpy as np

from lanecam.engines.base import Engine
from lanecam.engines.modelspec import ModelSpec

__all__ = ["KerasEngine"]


class KerasEngine(Engine):
    """Runs ``model`` (Keras 3, outputs named like ``spec``) in inference mode on the CPU."""

    name = "keras"

    def __init__(self, model, spec: ModelSpec):
        self.model = model
        self.spec = spec
        self.providers = ["keras"]

    def open(self) -> "KerasEngine":
        return self

    def close(self) -> None:
        pass

    def infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        t0 = time.perf_counter()
        out = self.model(tensor, training=False)
        result = {k: np.asarray(v) for k, v in out.items()}
        self.last_latency_ms = (time.perf_counter() - t0) * 1e3
        return result
