"""The ``Engine`` contract every inference backend follows, as a template method.

Lifecycle: construct (cheap: checks the model file and its spec, allocates nothing big),
``open()`` in the thread that will infer (sessions, GPU memory, buffers), ``infer()`` any
number of times from that thread, ``close()`` from that thread. Also a context manager.

This class owns what is the same for every backend: the open guard (``infer`` before ``open``
is refused; ``open``/``close`` twice do nothing the second time; an ``open`` that fails frees
what it had allocated), the input check, and the model-only timing. A backend implements
``_open``, ``_infer`` and ``_close`` (and ``_infer_batch`` when it sets ``dynamic_batch``).
Engines raise ``InputError`` for bad input, ``LanecamError`` for runtime failures and
``EngineStateError`` for calls out of order; the pipeline's runner adds the stage name.
"""

import time
from typing import Dict, List, Optional

import numpy as np

from lanecam.engines.inputspec import InputSpec
from lanecam.pipeline.errors import InputError

__all__ = ["Engine", "EngineStateError"]


class EngineStateError(RuntimeError):
    """An engine used out of order (``infer`` before ``open``, from another thread): a bug in
    the calling code, not bad input."""


class Engine:
    """An inference backend for one spec'd model.

    Attributes:
        name: backend name ("onnxruntime", "tensorrt", "keras").
        spec: the model's card (a ``ModelSpec``; any ``InputSpec`` for generic engines).
        model_path: the model file (None for in-memory models).
        providers: what actually runs it (execution providers, GPU name), after ``open()``.
        precision: "fp32", "fp16" or "int8".
        last_latency_ms: model-only latency of the last ``infer()``/``infer_batch()`` call,
            measured here around the backend's ``_infer`` (input copies, the run, output copies).
        dynamic_batch: True when ``infer_batch`` takes batches larger than 1.
        is_open: True between a successful ``open()`` and ``close()``.
    """

    name = "engine"
    spec: InputSpec
    model_path = None
    providers: List[str] = []
    precision = "fp32"
    last_latency_ms = 0.0
    dynamic_batch = False
    is_open = False

    # ---- lifecycle (template) -------------------------------------------------------------
    def open(self) -> "Engine":
        """Allocate everything in the calling thread (the one that will infer); returns self.

        Opening an open engine does nothing. When ``_open`` fails, ``_close`` frees what it
        had allocated before the error propagates.
        """
        if self.is_open:
            return self
        try:
            self._open()
        except BaseException:
            self._close()
            raise
        self.is_open = True
        return self

    def close(self) -> None:
        """Free everything; idempotent."""
        if self.is_open:
            self._close()
            self.is_open = False

    def infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one input tensor (``spec.dtype`` of ``spec.input_shape``); outputs by name.

        The returned arrays may be buffers the engine reuses on the next call (each backend's
        docstring says which): copy what must outlive it.

        Raises:
            EngineStateError: before ``open()``.
            InputError: the tensor is not ``spec.dtype`` of ``spec.input_shape``.
        """
        self._require_open("infer")
        self.check_input(tensor)
        t0 = time.perf_counter()
        outputs = self._infer(tensor)
        self.last_latency_ms = (time.perf_counter() - t0) * 1e3
        return outputs

    def infer_batch(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run a batch ``(N,) + spec.input_shape[1:]`` when ``dynamic_batch`` is True.

        For throughput measurements (``lanecam bench``); the pipeline runs batch 1 through
        ``infer``. Returns newly allocated outputs by name.

        Raises:
            EngineStateError: before ``open()``.
            InputError: the model's batch is fixed, or the batch has the wrong shape or dtype.
        """
        self._require_open("infer_batch")
        if not self.dynamic_batch:
            raise InputError(f"{self._what()}: the model's batch dimension is fixed; export it "
                             "with a dynamic batch for batched inference")
        self.check_batch(tensor)
        t0 = time.perf_counter()
        outputs = self._infer_batch(tensor)
        self.last_latency_ms = (time.perf_counter() - t0) * 1e3
        return outputs

    # ---- what backends implement ----------------------------------------------------------
    def _open(self) -> None:
        """Create sessions, contexts and buffers (called once per ``open``)."""
        raise NotImplementedError

    def _infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one checked input tensor."""
        raise NotImplementedError

    def _infer_batch(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one checked batch (only called when ``dynamic_batch`` is True)."""
        raise NotImplementedError(f"{self.name}: batched inference is not supported")

    def _close(self) -> None:
        """Free what ``_open`` allocated; also called after a failed ``_open``, so it must
        cope with a partly opened engine."""

    # ---- checks ---------------------------------------------------------------------------
    def _what(self) -> str:
        return str(self.model_path) if self.model_path is not None else type(self).__name__

    def _require_open(self, call: str) -> None:
        if not self.is_open:
            raise EngineStateError(f"{type(self).__name__}.{call}() before open() "
                                   f"({self._what()})")

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
        spec: Optional[InputSpec] = getattr(self, "spec", None)
        return f"<{type(self).__name__} {self.describe()} {spec.name if spec else None}>"
