"""One way to build an ONNX Runtime session, for the engines, the heatmap model and the tools.

Options for low CPU latency on a machine whose other cores decode, draw and encode:
sequential execution, one inter-op thread, no spinning of idle intra-op threads. A file ONNX Runtime cannot load is one ``InputError``
line naming it; onnxruntime itself is imported on first use, with an error naming the extra.
"""

import os
from pathlib import Path
from typing import List, Optional, Sequence, Union

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require

__all__ = ["make_session", "choose_providers", "default_threads", "PROVIDER_PRIORITY",
           "import_onnxruntime"]

# the first available one wins; CPU is always the fallback
PROVIDER_PRIORITY = ("TensorrtExecutionProvider", "CUDAExecutionProvider",
                     "CPUExecutionProvider")


def import_onnxruntime(purpose: str = "ONNX Runtime inference"):
    """The onnxruntime module, or ``MissingDependencyError`` naming the extra to install."""
    return require("onnxruntime", "test", purpose)


def default_threads() -> int:
    """ONNX Runtime intra-op threads when none are asked for: half the cores, at least 1.

    The engine runs as one stage of a pipeline whose other stages (decode, resize, lane
    extraction and drawing, encoding) need about as much CPU as the network does. Given every
    core, ONNX Runtime's parallel sections wait for helper threads whose cores are busy with
    those stages, and the pipeline gets slower than a plain loop under load
    (docs/performance.md).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


def choose_providers(requested: Optional[Sequence[str]] = None) -> List[str]:
    """Execution providers for a session: ``requested`` (all must be available), or every
    available one of ``PROVIDER_PRIORITY`` in that order.

    Raises:
        InputError: a requested provider is not in this onnxruntime build.
    """
    available = import_onnxruntime().get_available_providers()
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise InputError(f"execution providers {missing} are not available in this "
                             f"onnxruntime; available: {available}")
        return list(requested)
    return [p for p in PROVIDER_PRIORITY if p in available] or ["CPUExecutionProvider"]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def make_session(model: Union[str, os.PathLike, bytes], threads: Optional[int] = None,
                 providers: Optional[Sequence[str]] = None, optimize: bool = True,
                 fuse_qdq: bool = True, spinning: bool = False, name: Optional[str] = None):
    """An ``onnxruntime.InferenceSession`` for ``model``.

    Args:
        model: an ONNX file path or the model's bytes.
        threads: intra-op threads; None for ``default_threads()``.
        providers: execution providers in priority order; None for the CPU only (use
            ``choose_providers()`` for "the best available").
        optimize: all graph optimisations (for inference); False parses the model only,
            for a quick look at its inputs, outputs and metadata.
        fuse_qdq: False keeps a Q/DQ model's QuantizeLinear/DequantizeLinear pairs unfused:
            int8 rounding and clipping, then float arithmetic, which is what TensorRT computes.
            ONNX Runtime's fused int8 CPU kernels feed uint8 activations and int8 weights and,
            on x86 CPUs without VNNI, sum pairs of products in saturating int16: a model whose
            inputs sit far from 0 gives visibly wrong outputs there.
        spinning: let idle intra-op threads spin (off: other threads share the cores).
        name: how messages name the model (default: the path, or "ONNX model" for bytes).

    Raises:
        InputError: ONNX Runtime cannot load the model (one line naming it).
        MissingDependencyError: onnxruntime is not installed.
    """
    ort = import_onnxruntime()
    if name is None:
        name = "ONNX model" if isinstance(model, (bytes, bytearray)) else str(model)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    level = ort.GraphOptimizationLevel
    opts.graph_optimization_level = level.ORT_ENABLE_ALL if optimize else level.ORT_DISABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if not fuse_qdq:
        opts.add_session_config_entry("session.disable_quant_qdq", "1")
    source = bytes(model) if isinstance(model, (bytes, bytearray)) else str(Path(model))
    try:
        return ort.InferenceSession(source, opts,
                                    providers=list(providers or ["CPUExecutionProvider"]))
    except Exception as exc:  # ORT raises InvalidProtobuf, Fail, NoSuchFile, NotImplemented...
        raise InputError(f"{name}: not a loadable ONNX model ({_first_line(exc)})") from None
