"""Small numeric helpers shared by the benchmark runs: the warm-up and steady-state FPS.

``latency_summary`` is the runtime's (``lanecam.pipeline.metrics``), so a bench report and
``lanecam run --stats`` name and compute their percentiles the same way.
"""

from typing import Optional

import numpy as np

from lanecam.pipeline.metrics import latency_summary

__all__ = ["latency_summary", "steady_fps", "warmup_for"]


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
