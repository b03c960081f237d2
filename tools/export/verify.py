"""Numerical check of an exported ONNX model against a reference on real, preprocessed frames."""

import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from lanecam.calibration.int8 import preprocess_frame, sample_frames
from lanecam.engines.modelspec import ModelSpec
from lanecam.engines.ort_session import make_session
from lanecam.engines.qdq import is_qdq

__all__ = ["default_check_source", "check_frames", "ort_session", "max_abs_diff", "is_qdq"]

_REPO = Path(__file__).resolve().parents[2]


def default_check_source() -> Optional[Path]:
    """Real road frames for checks: ``$LANECAM_CHECK_FRAMES`` or ``../shared/data/images``."""
    env = os.environ.get("LANECAM_CHECK_FRAMES")
    if env:
        return Path(env)
    shared = _REPO.parent / "shared" / "data" / "images"
    return shared if shared.is_dir() else None


def check_frames(source, spec: ModelSpec, count: int = 16, seed: int = 0) -> List[np.ndarray]:
    """Batch-1 NHWC float tensors preprocessed per ``spec`` from ``source`` (or the default real
    frames). Without any frames, seeded random images stand in (and the caller should say so)."""
    nhwc = spec.replace(layout="NHWC")
    source = source if source is not None else default_check_source()
    if source is None:
        rng = np.random.default_rng(seed)
        frames = [rng.integers(0, 256, (360, 640, 3), dtype=np.uint8) for _ in range(count)]
    else:
        frames = sample_frames(source, count)
    return [preprocess_frame(f, nhwc) for f in frames]


def ort_session(model_path, threads: int = 1, fuse_qdq: bool = True):
    """A CPU ONNX Runtime session for checks and latency (few threads: the machine is shared).

    ``fuse_qdq=False`` keeps a Q/DQ model's QuantizeLinear/DequantizeLinear pairs unfused, so
    the session computes what TensorRT computes (``lanecam.engines.ort_session.make_session``
    says why ONNX Runtime's fused int8 CPU kernels differ).
    """
    return make_session(model_path, threads=threads, fuse_qdq=fuse_qdq)


def max_abs_diff(session, tensors: Sequence[np.ndarray], reference: Callable,
                 output_names: Sequence[str], nchw: bool = False) -> Dict[str, float]:
    """Max |onnx - reference| per output over ``tensors`` (NHWC; transposed when ``nchw``).

    ``reference(x)`` returns the outputs in ``output_names`` order.
    """
    input_name = session.get_inputs()[0].name
    worst = {name: 0.0 for name in output_names}
    for x in tensors:
        feed = np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if nchw else x
        got = session.run(list(output_names), {input_name: feed})
        want = reference(x)
        for name, g, w in zip(output_names, got, want):
            if g.shape != w.shape:
                raise ValueError(f"output {name}: ONNX shape {g.shape} != reference {w.shape}")
            diff = float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64))))
            worst[name] = max(worst[name], diff)
    return worst
