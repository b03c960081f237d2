"""Numerical check of an exported ONNX model against a reference on real, preprocessed frames."""

import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from lanecam.calibration.int8 import preprocess_frame, sample_frames
from lanecam.engines.modelspec import ModelSpec
from lanecam.engines.ort_session import make_session
from lanecam.engines.qdq import is_qdq

__all__ = ["default_check_source", "check_frames", "check_frames_noted", "NOISE_NOTE", "ort_session", "max_abs_diff", "is_qdq"]

NOISE_NOTE = "random noise, no real frames found (set LANECAM_DATA or --check-frames)"


def default_check_source() -> Optional[Path]:
    """Real road frames for checks: ``$LANECAM_CHECK_FRAMES``, else ``<data>/images``
    (``lanecam.pipeline.data_paths``: ``$LANECAM_DATA``, ./shared/data, ../shared/data)."""
    from lanecam.pipeline.data_paths import data_path

    env = os.environ.get("LANECAM_CHECK_FRAMES")
    return Path(env) if env else data_path("images")


def check_frames_noted(source, spec: ModelSpec, count: int = 16,
                       seed: int = 0) -> Tuple[List[np.ndarray], str]:
    """Batch-1 NHWC float tensors preprocessed per ``spec`` from ``source`` (or the default real
    frames), and a note saying which frames they are: a check on noise is never silent."""
    nhwc = spec.replace(layout="NHWC")
    source = source if source is not None else default_check_source()
    if source is None:
        rng = np.random.default_rng(seed)
        frames = [rng.integers(0, 256, (360, 640, 3), dtype=np.uint8) for _ in range(count)]
        note = NOISE_NOTE
    else:
        frames = sample_frames(source, count)
        note = f"{len(frames)} real frames from {source}"
    return [preprocess_frame(f, nhwc) for f in frames], note


def check_frames(source, spec: ModelSpec, count: int = 16, seed: int = 0) -> List[np.ndarray]:
    """The tensors of ``check_frames_noted`` alone."""
    return check_frames_noted(source, spec, count, seed)[0]


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
