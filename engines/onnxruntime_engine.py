"""OnnxRuntimeEngine: the portable engine (CPU by default, CUDA/TensorRT providers when present).

Construction validates the model without keeping anything big: the file must be ONNX, its
card must be found (``find_spec``: argument, ONNX ``metadata_props``, or the
``<stem>.spec.json`` sidecar), and the model's input and outputs must match it. ``open()``
then creates the real session with options for low CPU latency and binds preallocated output
buffers, so ``infer()`` allocates nothing per call.
"""

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Type

import numpy as np

from lanecam.engines.base import Engine
from lanecam.engines.inputspec import InputSpec, find_spec
from lanecam.engines.modelspec import ModelSpec
from lanecam.engines.ort_session import (PROVIDER_PRIORITY, choose_providers, default_threads,
                                         make_session)
from lanecam.engines.qdq import is_qdq
from lanecam.pipeline.errors import InputError

__all__ = ["OnnxRuntimeEngine", "PROVIDER_PRIORITY", "default_threads", "shape_mismatch"]

_ORT_TYPES = {"tensor(float)": "float32", "tensor(uint8)": "uint8", "tensor(float16)": "float16"}


def shape_mismatch(model_shape: Sequence, want: Sequence[int]) -> bool:
    """True when a declared ONNX shape cannot hold ``want`` (rank or a fixed dim differs)."""
    if len(model_shape) != len(want):
        return True
    # symbolic or unknown dims (a dynamic batch) accept the spec's value
    return any(isinstance(d, int) and d > 0 and d != w for d, w in zip(model_shape, want))


class OnnxRuntimeEngine(Engine):
    """Runs an ONNX model with ONNX Runtime: the lane model, or any model with an ``InputSpec``
    card (the heatmap model).

    Args:
        model_path: the ``.onnx`` file.
        spec: its card; None finds it (``find_spec``: the ONNX metadata, then the sidecar).
        providers: execution providers in priority order; None uses every available one of
            ``PROVIDER_PRIORITY`` (TensorRT, CUDA, then CPU).
        threads: intra-op threads (None: ``default_threads()``, half the cores, at least 1).
        spinning: let idle intra-op threads spin. Off by default: in the pipeline other
            threads (decode, encode, drawing) share the cores, and spinning steals their time.
        spec_type: the card's class (``ModelSpec`` for lane models, ``HeatmapSpec``...).

    ``providers`` lists the providers the session really loaded after ``open()``;
    ``declared_outputs`` maps each output name to its shape as the model declares it
    (symbolic dims as strings). ``infer()`` returns the engine's own output buffers,
    overwritten by the next call; ``infer_batch()`` returns new arrays.
    """

    name = "onnxruntime"

    def __init__(self, model_path, spec: Optional[InputSpec] = None,
                 providers: Optional[Sequence[str]] = None, threads: Optional[int] = None,
                 spinning: bool = False, spec_type: Type[InputSpec] = ModelSpec):
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise InputError(f"{self.model_path}: model file not found")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise InputError(f"threads: expected a positive integer, got {threads!r}")
        self.threads = threads
        self.intra_op_threads: Optional[int] = None  # what open() used
        self.spinning = spinning
        self.requested_providers = list(providers) if providers else None
        self.providers: List[str] = []
        self.declared_outputs: Dict[str, tuple] = {}
        self._session = None
        self._binding = None
        self._outputs: Dict[str, np.ndarray] = {}
        self.spec = self._validate(spec, spec_type)

    # ---- validation (construction time: bad input is reported before any thread starts) -----
    def _validate(self, spec: Optional[InputSpec], spec_type: Type[InputSpec]) -> InputSpec:
        sess = make_session(self.model_path, threads=1, optimize=False)
        where = str(self.model_path)
        spec = find_spec(self.model_path, spec_type, spec,
                         embedded=sess.get_modelmeta().custom_metadata_map,
                         embedded_in="ONNX metadata")
        inputs = sess.get_inputs()
        if len(inputs) != 1:
            raise InputError(f"{where}: expected one input named {spec.input_name!r}, the model "
                             f"has {[i.name for i in inputs]}")
        inp = inputs[0]
        if inp.name != spec.input_name:
            raise InputError(f"{where}: input is named {inp.name!r}, the {spec_type.card} "
                             f"expects {spec.input_name!r}")
        if shape_mismatch(inp.shape, spec.input_shape):
            raise InputError(f"{where}: input {inp.name!r} has shape {list(inp.shape)}, the "
                             f"{spec_type.card} expects {list(spec.input_shape)} ({spec.layout})")
        # a symbolic first dimension (exported with a dynamic batch) takes any batch size
        self.dynamic_batch = not (isinstance(inp.shape[0], int) and inp.shape[0] > 0)
        dtype = _ORT_TYPES.get(inp.type, inp.type)
        if dtype != spec.dtype:
            raise InputError(f"{where}: input {inp.name!r} is {dtype}, the {spec_type.card} "
                             f"expects {spec.dtype}")
        outputs = sess.get_outputs()
        self.declared_outputs = {o.name: tuple(o.shape) for o in outputs}
        for want in spec.required_outputs():
            if want not in self.declared_outputs:
                raise InputError(f"{where}: no output named {want!r} (the {spec_type.card}'s); "
                                 f"the model's outputs are {list(self.declared_outputs)}")
        self.qdq = is_qdq(self.model_path)
        types = {_ORT_TYPES.get(o.type, o.type) for o in outputs}
        self.precision = "int8" if self.qdq else "fp16" if "float16" in types else "fp32"
        return spec

    # ---- lifecycle ---------------------------------------------------------------------------
    def _open(self) -> None:
        """Create the session, learn the output shapes and bind preallocated output buffers."""
        self.intra_op_threads = self.threads or default_threads()
        # A Q/DQ model runs unfused: ONNX Runtime's fused int8 CPU kernels give visibly wrong
        # lane maps on x86 without VNNI (see make_session), and TensorRT computes the unfused
        # arithmetic. It is then no faster than FP32 on the CPU: INT8 is for GPUs.
        session = make_session(self.model_path, threads=self.intra_op_threads,
                               providers=choose_providers(self.requested_providers),
                               spinning=self.spinning, fuse_qdq=not self.qdq)
        self.providers = session.get_providers()
        # one run tells the real output shapes (dynamic dims resolved for batch 1)
        zeros = np.zeros(self.spec.input_shape, np.dtype(self.spec.dtype))
        first = session.run(None, {self.spec.input_name: zeros})
        self._outputs = {o.name: np.empty_like(a) for o, a in zip(session.get_outputs(), first)}
        binding = session.io_binding()
        for name, buf in self._outputs.items():
            binding.bind_output(name, "cpu", 0, buf.dtype, buf.shape, buf.ctypes.data)
        self._session, self._binding = session, binding

    def _close(self) -> None:
        """Release the session and the output buffers."""
        self._session = self._binding = None
        self._outputs = {}

    # ---- inference ---------------------------------------------------------------------------
    def _infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one input; returns ``{output name: array}`` in the engine's reused buffers."""
        self._binding.bind_cpu_input(self.spec.input_name, np.ascontiguousarray(tensor))
        self._session.run_with_iobinding(self._binding)
        return self._outputs

    def _infer_batch(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run a batch (models with a dynamic batch dimension); allocates its outputs."""
        outputs = self._session.run(None, {self.spec.input_name: np.ascontiguousarray(tensor)})
        return {o.name: a for o, a in zip(self._session.get_outputs(), outputs)}
