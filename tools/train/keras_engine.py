"""An ``Engine`` around an in-memory Keras model, so that evaluation code written for the
runtime engines (``lanecam.tools.evaluate.Predictor``) can score a model while it trains.

Not the runtime's ``lanecam.engines.keras_engine.KerasEngine``, which loads a model file.
"""

from typing import Dict

import numpy as np

from lanecam.engines.base import Engine
from lanecam.engines.modelspec import ModelSpec

__all__ = ["InMemoryKerasEngine"]


class InMemoryKerasEngine(Engine):
    """Runs ``model`` (Keras 3, outputs named like ``spec``) in inference mode on the CPU.

    Args:
        model: the Keras model being trained (not copied: later weight updates show).
        spec: its ModelSpec (input contract and output names).

    ``infer()`` returns new arrays on every call.
    """

    name = "keras-in-memory"

    def __init__(self, model, spec: ModelSpec):
        self.model = model
        self.spec = spec
        self.providers = ["keras"]

    def _open(self) -> None:
        """Nothing to allocate: the model is already in memory."""

    def _infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        out = self.model(tensor, training=False)
        return {k: np.asarray(v) for k, v in out.items()}
