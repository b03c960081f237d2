"""The ``Engine`` contract every inference backend follows.

Lifecycle: construct (cheap: checks the model file and its ModelSpec, allocates nothing big),
``open()`` in the thread that will infer (sessions, GPU memory, buffers), ``infer()`` any
number of times from that thread, ``close()`` from that thread. Also a context manager.
"""

from typing import Dict, List

import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError

__all__ = ["Engine"]


class Engine:
    """An inference backend for one ModelSpec'd lane model.

    Attributes:
        name: backend name ("onnxruntime", "tensorrt", "keras").
        spec: the model's ``ModelSpec``.
        providers: what actually runs it (execution providers, GPU name), after ``open()``.
        precision: "fp32", "fp16" or "int8".
        last_latency_ms: model-only latency of the last ``infer()`` call.
        dynamic_batch: True when ``infer_batch`` takes batches larger than 1.
    """

    name = "engine"
    spec: ModelSpec
    providers: List[str] = []
    precision = "fp32"
    last_latency_ms = 0.0
    dynamic_batch = False

    def open(self) -> "Engine":
        """Allocate everything (in the calling thread, which must be the one that infers)."""
        raise NotImplementedError

    def close(self) -> None:
        """Free everything; idempotent."""
        raise NotImplementedError

    def infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one input tensor (``spec.input_shape``); outputs by name.

        The returned arrays may be buffers the engine reuses on the next call: copy what
        must outlive it.
        """
        raise NotImplementedError

    def infer_batch(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run a batch ``(N,) + spec.input_shape[1:]`` when ``dynamic_batch`` is True.

        For throughput measurements (``lanecam bench``); the pipeline runs batch 1 through
        ``infer``. Returns newly allocated outputs by name.
        """
        raise NotImplementedError(f"{self.name}: batched inference is not supported")

    def check_input(self, tensor: np.ndarray) -> None:
        """Refuse a tensor that is not ``spec.dtype`` of ``spec.input_shape`` (``InputError``)."""
        if tensor.shape != self.spec.input_shape or tensor.dtype != np.dtype(self.spec.dtype):
            raise InputError(f"input tensor: expected {self.spec.dtype} {self.spec.input_shape}, "
                             f"got {tensor.dtype} {tensor.shape}")

    def check_batch(self, tensor: np.ndarray) -> None:
        """Refuse a batch that is not ``spec.dtype`` of ``(N,) + spec.input_shape[1:]``."""
        want = tuple(self.spec.input_shape[1:])
        if tensor.ndim != len(want) + 1 or tuple(tensor.shape[1:]) != want or \
                tensor.dtype != np.dtype(self.spec.dtype):
            dims = ", ".join(map(str, want))
            raise InputError(f"input batch: expected {self.spec.dtype} (N, {dims}), got "
                             f"{tensor.dtype} {tensor.shape}")

    def describe(self) -> str:
        """``name/providers`` for logs and the HUD, e.g. ``onnxruntime/cpu``."""
        short = [p.replace("ExecutionProvider", "").lower() for p in (self.providers or [])]
        return f"{self.name}/{','.join(short)}" if short else self.name

    def __enter__(self) -> "Engine":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()} {getattr(self, 'spec', None) and self.spec.name}>"
