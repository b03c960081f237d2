"""Small numeric helpers shared by the benchmark runs: percentiles and steady-state FPS."""

from typing import Optional, Sequence

import numpy as np

__all__ = ["latency_summary", "steady_fps", "warmup_for"]


def latency_summary(seconds: Sequence[float]) -> dict:
    """``{"count", "mean", "p50", "p95", "p99", "max"}`` in milliseconds ({"count": 0} if empty)."""
    a = np.asarray(seconds, np.float64) * 1e3
    if a.size == 0:
        return {"count": 0}
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"count": int(a.size), "mean": round(float(a.mean()), 3), "p50": round(float(p50), 3),
            "p95": round(float(p95), 3), "p99": round(float(p99), 3),
            "max": round(float(a.max()), 3)}


def warmup_for(frames: int, warmup: int) -> int:
    """The warm-up frames actually skipped: ``warmup``, but never more than a quarter of a run."""
    return max(0, min(int(warmup), int(frames) // 4))


def steady_fps(done_times: np.ndarray, warmup: int) -> Optional[float]:
    """Frames per second between the completion of frame ``warmup`` and of the last frame.

    Frame completions after the warm-up, divided by the time they took: the pipeline's
    start-up (an engine opening, rings filling) is left out, the same way for every run.
    None with fewer than two frames after the warm-up.
    """
    t = np.asarray(done_times, np.float64)
    if len(t) - warmup < 2:
        return None
    span = t[-1] - t[warmup]
    return float((len(t) - 1 - warmup) / span) if span > 0 else None
