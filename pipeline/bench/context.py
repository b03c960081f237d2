"""What the benchmark runs share: the configuration's context, results, and small helpers.

``RunContext`` says what one configuration's runs need (the input, a ``LaneDetector`` factory,
the sinks, warm-up, limits); ``RunResult`` is what a run returns. The helpers open the sinks and
turn raw samples into the report's CPU and memory sections.
"""

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

from lanecam.pipeline.bench.recorder import FrameTimeline
from lanecam.pipeline.bench.resources import ResourceSampler, cpu_usage, memory_growth

__all__ = ["RunContext", "RunResult", "open_sinks", "run_count",
           "timeline_capacity", "cpu_report", "memory_report"]


@dataclass
class RunContext:
    """What every run of one configuration needs.

    Attributes:
        bench_input: the ``BenchInput``.
        make_detector: returns a new ``LaneDetector`` (engine not opened yet), set up like
            ``lanecam run``'s (calibration, HUD).
        make_sinks: ``make_sinks(tag)`` returns new, unopened real sinks ([] for null).
        warmup: frames (or model calls) left out of the statistics.
        seconds: stop each run after this long (None: after ``frames_per_run`` frames).
        batch: batch size of the model-only throughput figure (1: none).
        sample_interval: seconds between memory samples.
        on_progress: called with a short status line.
    """

    bench_input: object
    make_detector: Callable[[], object]
    make_sinks: Callable[[str], List] = field(default=lambda tag: [])
    warmup: int = 10
    seconds: Optional[float] = None
    batch: int = 8
    sample_interval: float = 0.05
    on_progress: Callable[[str], None] = field(default=lambda msg: None)


@dataclass
class RunResult:
    """One run's report dict and, for the plot, its timeline and raw stage samples (seconds)."""

    report: dict
    timeline: Optional[FrameTimeline] = None
    stage_samples: Dict[str, np.ndarray] = field(default_factory=dict)


# ---- helpers ----------------------------------------------------------------------------------
def cpu_report(start, end, frames: int) -> dict:
    """``cpu_usage`` between two ``CpuSnapshot``s plus this process's CPU ms per frame."""
    out = cpu_usage(start, end)
    if frames:
        # CPU time per frame hardly depends on other processes' load, unlike FPS
        out["process_ms_per_frame"] = round(out["process_cores"] * out["wall_s"] / frames * 1e3, 3)
    return out


def memory_report(sampler: ResourceSampler, peak: int, skip: int) -> dict:
    """Peak, first and last RSS, and the growth per frame after ``skip`` frames (MB, KB)."""
    _, frames, rss = sampler.arrays()
    out = {"peak_rss_mb": round(peak / 2**20, 1)}
    if len(rss):
        out["start_rss_mb"] = round(rss[0] / 2**20, 1)
        out["end_rss_mb"] = round(rss[-1] / 2**20, 1)
    growth = memory_growth(frames, rss, skip)
    if growth is not None:
        out["growth_kb_per_frame"] = round(growth["bytes_per_frame"] / 1024, 3)
        out["steady_state_frames"] = growth["frames"]
        out["steady_state_delta_mb"] = round(growth["delta_bytes"] / 2**20, 2)
    return out


def open_sinks(ctx: RunContext, tag: str) -> List:
    """New real sinks for run ``tag``, opened with the input's size and fps."""
    bi = ctx.bench_input
    sinks = ctx.make_sinks(tag)
    for sink in sinks:
        sink.open(bi.width, bi.height, bi.fps)
    return sinks


def run_count(ctx: RunContext) -> Optional[int]:
    """Frames a run reads: None (until the time limit) with ``seconds``."""
    return None if ctx.seconds else ctx.bench_input.frames_per_run


def timeline_capacity(ctx: RunContext) -> int:
    """Frames a run may record (generous in ``seconds`` mode)."""
    if ctx.seconds:
        return max(ctx.bench_input.frames_per_run, int(ctx.seconds * 2000))
    return ctx.bench_input.frames_per_run + 1
