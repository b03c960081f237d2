"""TensorRTEngine: a lane model as a TensorRT plan, run with pycuda from one inference thread.

Lifecycle (CUDA memory with pycuda, in threads): ``open()`` runs in the thread
that will infer. It retains the device's PRIMARY context (the one TensorRT's runtime API uses;
never ``pycuda.autoinit``) and pushes it, then creates the runtime, engine, execution context, a
non-default stream, pinned host buffers and device buffers, once. ``infer()`` copies into the
pinned input, enqueues H2D, ``execute_async_v3`` (``execute_async_v2`` + bindings on TensorRT
8.0/8.2), D2H, and synchronizes. ``close()`` frees everything and pops the context in
``finally``. tensorrt and pycuda are imported in ``open()``, never at module import.
"""

import json
import sys
import threading
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from lanecam.engines.base import Engine, EngineStateError
from lanecam.engines.engine_cache import (EngineCache, check_plan, expected_sidecar, read_sidecar,
                                          sha256_file)
from lanecam.engines.inputspec import find_spec
from lanecam.engines.modelspec import METADATA_KEY, ModelSpec
from lanecam.engines.tensorrt_build import BuildOptions, build_serialized, onnx_precision
from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.lazy import require


__all__ = ["TensorRTEngine", "PLAN_SUFFIXES", "gpu_identity"]

PLAN_SUFFIXES = (".plan", ".engine", ".trt")


def gpu_identity(cuda, device: int = 0) -> dict:
    """Name and compute capability of CUDA device ``device`` (pycuda.driver must be init'ed)."""
    dev = cuda.Device(device)
    major, minor = dev.compute_capability()
    return {"gpu_name": dev.name(), "compute_capability": f"{major}.{minor}"}


def _note(msg: str) -> None:
    """Default destination of build/cache notes: stderr (stdout may carry a program's output)."""
    print(msg, file=sys.stderr, flush=True)


def _plan_spec(plan_path: Path, given: Optional[ModelSpec]) -> ModelSpec:
    """The ModelSpec of a plan: ``given``, else the one its sidecar embeds, else
    ``<stem>.spec.json`` (``find_spec``)."""
    data = read_sidecar(plan_path).get("modelspec")
    embedded = {METADATA_KEY: json.dumps(data)} if data else {}
    return find_spec(plan_path, ModelSpec, given, embedded=embedded, embedded_in="plan sidecar")


def _validated_onnx_spec(onnx_path: Path, spec: Optional[ModelSpec]) -> ModelSpec:
    """Check an ONNX model and its ModelSpec exactly as the ONNX Runtime engine does (loadable,
    spec from the argument, metadata or sidecar, input name/shape/type and outputs matching):
    the same model is refused with the same message whichever engine is chosen. Cheap: a
    session without graph optimizations, dropped at once (onnxruntime is a base dependency)."""
    from lanecam.engines.onnxruntime_engine import OnnxRuntimeEngine

    return OnnxRuntimeEngine(onnx_path, spec=spec).spec


class TensorRTEngine(Engine):
    """Runs a ModelSpec'd lane model on an NVIDIA GPU with TensorRT.

    Args:
        model_path: an ``.onnx`` (a plan is looked up in, or built into, the engine cache) or a
            plan (``.plan``/``.engine``/``.trt``) with its ``.json`` sidecar.
        spec: the ModelSpec; default for a plan from its sidecar or ``<stem>.spec.json``, for
            an ONNX from its metadata or ``<stem>.spec.json`` (checked against the model as
            the ONNX Runtime engine checks it).
        precision: "fp32"/"fp16"/"int8" for a build; default the ONNX's own typing.
        dla_core: DLA core to build and run on (GPU fallback on); None for the GPU.
        device: CUDA device index.
        cache_dir: engine cache folder (checked writable here, at construction); default
            ``lanecam.engines.engine_cache.default_cache_dir()``.
        workspace_mib: builder workspace.
        say: where build and cache notes go (default: stderr).

    ``infer()`` returns a dict of output arrays that are the engine's pinned host buffers:
    they are overwritten by the next call, copy them to keep them. Use from one thread:
    the one that called ``open()``.
    """

    name = "tensorrt"

    def __init__(self, model_path, spec: Optional[ModelSpec] = None,
                 precision: Optional[str] = None, dla_core: Optional[int] = None,
                 device: int = 0, cache_dir=None, workspace_mib: int = 1024, say=None):
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise InputError(f"{self.model_path}: model file not found")
        suffix = self.model_path.suffix.lower()
        if suffix != ".onnx" and suffix not in PLAN_SUFFIXES:
            raise InputError(f"{self.model_path}: expected an .onnx model or a TensorRT plan "
                             f"({', '.join(PLAN_SUFFIXES)})")
        self.is_plan = suffix in PLAN_SUFFIXES
        if self.is_plan:
            self.spec = _plan_spec(self.model_path, spec)
            self.precision = precision or read_sidecar(self.model_path).get("precision", "fp32")
        else:
            self.spec = _validated_onnx_spec(self.model_path, spec)
            self.precision = precision or onnx_precision(self.model_path.read_bytes())
        self.options = BuildOptions(self.precision, workspace_mib, dla_core)
        self.device = device
        self.say = say or _note
        # the cache folder is checked now: a read-only cache is a start-up error
        self.cache = None if self.is_plan else EngineCache(cache_dir, say=self.say)
        self.providers: List[str] = []
        self.gpu_name: Optional[str] = None
        self.plan_path: Optional[Path] = None
        self._ctx = None
        self._owner = None
        self._reset()

    def _reset(self):
        self._runtime = self._engine = self._context = self._stream = None
        self._inputs: Dict[str, tuple] = {}    # name -> (pinned host, device allocation)
        self._outputs: Dict[str, tuple] = {}
        self._bindings = None                    # list of device pointers on 8.0/8.2
        self._results: Dict[str, np.ndarray] = {}
        self._cuda = None

    # ---- lifecycle ------------------------------------------------------------------------
    def _open(self) -> None:
        """Retain+push the primary context and allocate everything, in the calling thread
        (on failure the base class calls ``_close``, which frees and pops)."""
        trt = require("tensorrt", "trt", "the TensorRT engine")
        cuda = require("pycuda.driver", "trt", "the TensorRT engine")
        try:
            cuda.init()
            device = cuda.Device(self.device)
        except Exception as exc:  # pycuda raises LogicError/RuntimeError without a GPU/driver
            raise InputError(f"CUDA device {self.device}: not available ({exc})") from None
        ctx = device.retain_primary_context()
        ctx.push()
        self._ctx, self._owner, self._cuda = ctx, threading.get_ident(), cuda
        ident = gpu_identity(cuda, self.device)
        self.gpu_name = ident["gpu_name"]
        self.providers = [f"TensorRT {trt.__version__}", ident["gpu_name"]]
        plan = self._resolve_plan(trt, ident)
        self._load(trt, cuda, plan)

    def _close(self) -> None:
        """Free buffers, stream, context, engine and runtime; pop the CUDA context (finally)."""
        if self._ctx is None:
            return
        self._require_owner("close")
        try:
            for _, dev in list(self._inputs.values()) + list(self._outputs.values()):
                dev.free()
        finally:
            self._reset()
            ctx, self._ctx, self._owner = self._ctx, None, None
            ctx.pop()

    def describe(self) -> str:
        """``tensorrt/<gpu> (<precision>[, dla<N>])`` for logs and the HUD."""
        where = (self.gpu_name or "gpu").lower()
        dla = "" if self.options.dla_core is None else f", dla{self.options.dla_core}"
        return f"{self.name}/{where} ({self.precision}{dla})"

    # ---- plan -----------------------------------------------------------------------------
    def _want(self, trt, ident) -> dict:
        sha = sha256_file(self.model_path) if not self.is_plan else None
        return expected_sidecar(trt.__version__, ident["gpu_name"], ident["compute_capability"],
                                self.precision, self.spec.input_shape, self.options.dla_core,
                                sha or "")

    def _resolve_plan(self, trt, ident) -> bytes:
        want = self._want(trt, ident)
        if self.is_plan:
            want["onnx_sha256"] = None  # unknown here: not compared
            check_plan(self.model_path, want)
            self.plan_path = self.model_path
            return self.model_path.read_bytes()
        options = BuildOptions(self.precision, self.options.workspace_mib, self.options.dla_core,
                               self.cache.folder / f"timing-{trt.__version__}-"
                                                   f"sm{ident['compute_capability']}.cache")

        def build() -> bytes:
            self.say(f"tensorrt: building a {self.precision} plan for {ident['gpu_name']} "
                     f"(TensorRT {trt.__version__}); this takes a while once")
            return build_serialized(trt, self.model_path.read_bytes(), options,
                                    str(self.model_path), say=self.say)

        self.plan_path = self.cache.get_or_build(self.model_path, want, build,
                                                 extra={"modelspec": self.spec.to_dict()})
        return self.plan_path.read_bytes()

    def _load(self, trt, cuda, plan: bytes) -> None:
        logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(logger)
        if self.options.dla_core is not None:
            if not hasattr(self._runtime, "DLA_core"):  # TensorRT 11.0-11.3
                raise InputError(f"DLA core {self.options.dla_core}: TensorRT "
                                 f"{trt.__version__} has no DLA support")
            self._runtime.DLA_core = self.options.dla_core
        self._engine = self._runtime.deserialize_cuda_engine(plan)
        if self._engine is None:
            raise InputError(f"{self.plan_path}: TensorRT could not deserialize the plan (built "
                             "for another TensorRT version or GPU? see the TensorRT log above)")
        self._context = self._engine.create_execution_context()
        self._stream = cuda.Stream()
        if hasattr(self._engine, "num_io_tensors"):
            self._bind_by_name(trt, cuda)
        else:
            self._bind_by_index(trt, cuda)
        if list(self._inputs) != [self.spec.input_name]:
            raise InputError(f"{self.plan_path}: inputs {list(self._inputs)}; the ModelSpec "
                             f"expects one input named {self.spec.input_name!r}")
        for want in self.spec.required_outputs():
            if want not in self._outputs:
                raise InputError(f"{self.plan_path}: no output named {want!r} (the ModelSpec's); "
                                 f"the plan's outputs are {list(self._outputs)}")
        host_in = self._inputs[self.spec.input_name][0]
        if host_in.shape != self.spec.input_shape:
            raise InputError(f"{self.plan_path}: input {self.spec.input_name!r} has shape "
                             f"{list(host_in.shape)}, the ModelSpec expects "
                             f"{list(self.spec.input_shape)} ({self.spec.layout})")
        self._results = {name: host for name, (host, _) in self._outputs.items()}

    def _alloc(self, cuda, shape, dtype):
        host = cuda.pagelocked_empty(tuple(int(d) for d in shape), dtype)
        return host, cuda.mem_alloc(host.nbytes)

    def _fixed(self, shape):
        shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):  # dynamic batch: run batch 1, the spec's shape
            return self.spec.input_shape
        return shape

    def _bind_by_name(self, trt, cuda) -> None:
        eng, ctx = self._engine, self._context
        names = [eng.get_tensor_name(i) for i in range(eng.num_io_tensors)]
        is_input = {n: eng.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        for name in (n for n in names if is_input[n]):
            shape = self._fixed(eng.get_tensor_shape(name))
            ctx.set_input_shape(name, shape)
            self._inputs[name] = self._alloc(cuda, shape, trt.nptype(eng.get_tensor_dtype(name)))
        for name in (n for n in names if not is_input[n]):
            shape = ctx.get_tensor_shape(name)
            self._outputs[name] = self._alloc(cuda, shape, trt.nptype(eng.get_tensor_dtype(name)))
        for name, (_, dev) in list(self._inputs.items()) + list(self._outputs.items()):
            ctx.set_tensor_address(name, int(dev))

    def _bind_by_index(self, trt, cuda) -> None:
        """TensorRT 8.0/8.2 (Jetson Nano): the bindings API only."""
        eng, ctx = self._engine, self._context
        self._bindings = [0] * eng.num_bindings
        order = sorted(range(eng.num_bindings), key=lambda i: not eng.binding_is_input(i))
        for i in order:  # inputs first: output shapes depend on them
            name = eng.get_binding_name(i)
            if eng.binding_is_input(i):
                shape = self._fixed(eng.get_binding_shape(i))
                ctx.set_binding_shape(i, shape)
                target = self._inputs
            else:
                shape = ctx.get_binding_shape(i)
                target = self._outputs
            target[name] = self._alloc(cuda, shape, trt.nptype(eng.get_binding_dtype(i)))
            self._bindings[i] = int(target[name][1])

    # ---- inference ------------------------------------------------------------------------
    def _require_owner(self, call: str) -> None:
        if threading.get_ident() != self._owner:
            raise EngineStateError(f"TensorRTEngine.{call}() called from another thread than "
                                   "the one that opened it (its CUDA context is current only "
                                   "there)")

    def _infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one batch; returns the output buffers by name (reused: copy to keep them)."""
        self._require_owner("infer")
        cuda = self._cuda
        (host_in, dev_in), = self._inputs.values()
        np.copyto(host_in, tensor, casting="same_kind")
        cuda.memcpy_htod_async(dev_in, host_in, self._stream)
        if self._bindings is None:
            ok = self._context.execute_async_v3(self._stream.handle)
        else:
            ok = self._context.execute_async_v2(self._bindings, self._stream.handle)
        if not ok:
            raise LanecamError(f"{self.plan_path}: TensorRT execution failed (see the TensorRT "
                               "log)")
        for host, dev in self._outputs.values():
            cuda.memcpy_dtoh_async(host, dev, self._stream)
        self._stream.synchronize()
        return self._results
