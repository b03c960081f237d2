"""OnnxRuntimeEngine: the portable engine (CPU by default, CUDA/TensorRT providers when present).

Construction validates the model without keeping anything big: the file must be ONNX, a
ModelSpec must be found (argument, ONNX ``metadata_props``, or the ``<stem>.spec.json``
sidecar), and the model's input and outputs must match it. ``open()`` then creates the real
session with options for low CPU latency (TENSORRT.md, "ONNX Runtime as the portable engine")
and binds preallocated output buffers, so ``infer()`` allocates nothing per call.
"""

import os
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from lanecam.engines.base import Engine
from lanecam.engines.modelspec import ModelSpec, spec_path_for
from lanecam.pipeline.errors import InputError, PipelineError
from lanecam.pipeline.lazy import require

__all__ = ["OnnxRuntimeEngine", "PROVIDER_PRIORITY", "default_threads"]

# the first available one wins; CPU is always the fallback
PROVIDER_PRIORITY = ("TensorrtExecutionProvider", "CUDAExecutionProvider",
                     "CPUExecutionProvider")
_ORT_TYPES = {"tensor(float)": "float32", "tensor(uint8)": "uint8", "tensor(float16)": "float16"}


def _ort():
    return require("onnxruntime", "test", "the ONNX Runtime engine")


def default_threads() -> int:
    """ONNX Runtime intra-op threads when none are asked for: half the cores, at least 1.

    The engine runs as one stage of a pipeline whose other stages (decode, resize, lane
    extraction and drawing, encoding) need about as much CPU as the network does. Given every
    core, ONNX Runtime's parallel sections wait for helper threads whose cores are busy with
    those stages: on 2 cores, one thread gave the same pipelined FPS as two on an idle machine
    and 1.3x more under load, where two threads made the pipeline slower than a plain loop
    (docs/performance.md).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


def _shape_mismatch(model_shape: Sequence, want: Sequence[int]) -> bool:
    if len(model_shape) != len(want):
        return True
    # symbolic or unknown dims (a dynamic batch) accept the spec's value
    return any(isinstance(d, int) and d > 0 and d != w for d, w in zip(model_shape, want))


class OnnxRuntimeEngine(Engine):
    """Runs an ONNX lane model with ONNX Runtime.

    Args:
        model_path: the ``.onnx`` file.
        spec: its ModelSpec; None reads it from the ONNX metadata, then the sidecar.
        providers: execution providers in priority order; None uses every available one of
            ``PROVIDER_PRIORITY`` (TensorRT, CUDA, then CPU).
        threads: intra-op threads (None: ``default_threads()``, half the cores, at least 1).
        spinning: let idle intra-op threads spin. Off by default: in the pipeline other
            threads (decode, encode, drawing) share the cores, and spinning steals their time.

    ``providers`` lists the providers the session really loaded after ``open()``.
    ``infer()`` returns the engine's own output buffers, overwritten by the next call.
    """

    name = "onnxruntime"

    def __init__(self, model_path, spec: Optional[ModelSpec] = None,
                 providers: Optional[Sequence[str]] = None, threads: Optional[int] = None,
                 spinning: bool = False):
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
        self.precision = "fp32"
        self.last_latency_ms = 0.0
        self._session = None
        self._binding = None
        self._outputs: Dict[str, np.ndarray] = {}
        self.spec = self._validate(spec)

    # ---- validation (construction time: bad input is reported before any thread starts) -----
    def _light_session(self):
        ort = _ort()
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(self.model_path), opts,
                                        providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises InvalidProtobuf, Fail, NotImplemented...
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.model_path}: not a loadable ONNX model ({first[:200]})") from None

    def _validate(self, spec: Optional[ModelSpec]) -> ModelSpec:
        sess = self._light_session()
        where = str(self.model_path)
        if spec is None:
            spec = ModelSpec.from_metadata_props(sess.get_modelmeta().custom_metadata_map,
                                                 f"{where} metadata")
        if spec is None and spec_path_for(self.model_path).is_file():
            spec = ModelSpec.load(spec_path_for(self.model_path))
        if spec is None:
            raise InputError(f"{where}: no ModelSpec (none given, none in the ONNX metadata, no "
                             f"{spec_path_for(self.model_path).name}); export the model with "
                             "lanecam export or pass a spec")
        inputs = sess.get_inputs()
        if len(inputs) != 1:
            raise InputError(f"{where}: expected one input named {spec.input_name!r}, the model "
                             f"has {[i.name for i in inputs]}")
        inp = inputs[0]
        if inp.name != spec.input_name:
            raise InputError(f"{where}: input is named {inp.name!r}, the ModelSpec expects "
                             f"{spec.input_name!r}")
        if _shape_mismatch(inp.shape, spec.input_shape):
            raise InputError(f"{where}: input {inp.name!r} has shape {list(inp.shape)}, the "
                             f"ModelSpec expects {list(spec.input_shape)} ({spec.layout})")
        # a symbolic first dimension (exported with a dynamic batch) takes any batch size
        self.dynamic_batch = not (isinstance(inp.shape[0], int) and inp.shape[0] > 0)
        dtype = _ORT_TYPES.get(inp.type, inp.type)
        if dtype != spec.dtype:
            raise InputError(f"{where}: input {inp.name!r} is {dtype}, the ModelSpec expects "
                             f"{spec.dtype}")
        names = [o.name for o in sess.get_outputs()]
        for want in filter(None, (spec.seg_output, spec.exist_output)):
            if want not in names:
                raise InputError(f"{where}: no output named {want!r} (the ModelSpec's); the "
                                 f"model's outputs are {names}")
        types = {_ORT_TYPES.get(o.type, o.type) for o in sess.get_outputs()}
        self.precision = "fp16" if "float16" in types else "fp32"
        # A Q/DQ (INT8) model: op types are plain strings in the protobuf, so a byte search
        # finds them without making onnx a runtime dependency.
        self.qdq = b"DequantizeLinear" in self.model_path.read_bytes()
        if self.qdq:
            self.precision = "int8"
        return spec

    # ---- lifecycle ---------------------------------------------------------------------------
    def _choose_providers(self, ort) -> List[str]:
        available = ort.get_available_providers()
        if self.requested_providers:
            missing = [p for p in self.requested_providers if p not in available]
            if missing:
                raise InputError(f"execution providers {missing} are not available in this "
                                 f"onnxruntime; available: {available}")
            return list(self.requested_providers)
        return [p for p in PROVIDER_PRIORITY if p in available] or ["CPUExecutionProvider"]

    def open(self) -> "OnnxRuntimeEngine":
        """Create the session, learn the output shapes and bind preallocated output buffers."""
        if self._session is not None:
            return self
        ort = _ort()
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.intra_op_threads = self.threads or default_threads()
        opts.intra_op_num_threads = self.intra_op_threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning",
                                      "1" if self.spinning else "0")
        if getattr(self, "qdq", False):
            # ONNX Runtime's fused int8 CPU kernels (x86 without VNNI) saturate 16-bit sums
            # and give visibly wrong lane maps; evaluated unfused, a Q/DQ model computes what
            # TensorRT computes. It is then no faster than FP32 on the CPU: INT8 is for GPUs.
            opts.add_session_config_entry("session.disable_quant_qdq", "1")
        try:
            session = ort.InferenceSession(str(self.model_path), opts,
                                           providers=self._choose_providers(ort))
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"{self.model_path}: ONNX Runtime could not create a session: "
                             f"{str(exc).strip()[:200]}") from None
        self.providers = session.get_providers()
        # one run tells the real output shapes (dynamic dims resolved for batch 1)
        zeros = np.zeros(self.spec.input_shape, np.dtype(self.spec.dtype))
        first = session.run(None, {self.spec.input_name: zeros})
        self._outputs = {o.name: np.empty_like(a) for o, a in zip(session.get_outputs(), first)}
        binding = session.io_binding()
        for name, buf in self._outputs.items():
            binding.bind_output(name, "cpu", 0, buf.dtype, buf.shape, buf.ctypes.data)
        self._session, self._binding = session, binding
        return self

    def close(self) -> None:
        """Release the session and the output buffers."""
        self._session = self._binding = None
        self._outputs = {}

    # ---- inference ---------------------------------------------------------------------------
    def infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one input; returns ``{output name: array}`` in the engine's reused buffers."""
        if self._session is None:
            raise PipelineError("infer", "OnnxRuntimeEngine.infer() before open()")
        self.check_input(tensor)
        tensor = np.ascontiguousarray(tensor)
        t0 = time.perf_counter()
        self._binding.bind_cpu_input(self.spec.input_name, tensor)
        self._session.run_with_iobinding(self._binding)
        self.last_latency_ms = (time.perf_counter() - t0) * 1e3
        return self._outputs

    def infer_batch(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run a batch ``(N,) + spec.input_shape[1:]`` (models with a dynamic batch dimension).

        Used for throughput figures; allocates its outputs (not the reused buffers of ``infer``).
        """
        if self._session is None:
            raise PipelineError("infer", "OnnxRuntimeEngine.infer_batch() before open()")
        if not self.dynamic_batch:
            raise InputError(f"{self.model_path}: the model's batch dimension is fixed; export it "
                             "with a dynamic batch for batched inference")
        self.check_batch(tensor)
        t0 = time.perf_counter()
        outputs = self._session.run(None, {self.spec.input_name: np.ascontiguousarray(tensor)})
        self.last_latency_ms = (time.perf_counter() - t0) * 1e3
        return {o.name: a for o, a in zip(self._session.get_outputs(), outputs)}
