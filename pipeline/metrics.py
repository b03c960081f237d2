"""Pipeline metrics: per-stage latency percentiles, FPS, drops, ring occupancy.

Each stage writes only its own ``LatencyStats`` (one writer per object, no locks on the hot
path); the runner's main thread reads them for the periodic one-line ``PERF`` status (like
DeepStream's) and the JSON summary at the end. Samples go into a preallocated window of the
last ``window`` values, so nothing grows with the length of the run.
"""

import json
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np


__all__ = ["LatencyStats", "Metrics", "latency_summary", "LATENCY_KEYS"]

# the keys of every latency summary in the project (run --stats, bench JSON, evaluate report)
LATENCY_KEYS = ("count", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms")


def latency_summary(seconds) -> dict:
    """Latencies given in seconds, summarised in milliseconds (3 decimals):
    ``{"count", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"}``; ``{"count": 0}`` when
    empty. Percentiles interpolate linearly between samples (numpy's default)."""
    a = np.asarray(seconds, np.float64) * 1e3
    if a.size == 0:
        return {"count": 0}
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    values = (a.size, a.mean(), p50, p95, p99, a.max())
    return {k: int(v) if k == "count" else round(float(v), 3) for k, v in zip(LATENCY_KEYS, values)}


class LatencyStats:
    """Latencies (seconds in, milliseconds out) over a sliding window of the last samples."""

    def __init__(self, window: int = 4096):
        self._samples = np.zeros(window, np.float64)
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def record(self, seconds: float) -> None:
        """Add one sample (called by the one stage that owns this object)."""
        self._samples[self.count % len(self._samples)] = seconds
        self.count += 1
        self.total += seconds
        if seconds > self.max:
            self.max = seconds

    def recent(self, n: Optional[int] = None) -> np.ndarray:
        """Copy of the last ``n`` samples (all those in the window by default), oldest first."""
        size = len(self._samples)
        have = min(self.count, size)
        n = have if n is None else min(n, have)
        end = self.count % size
        idx = (np.arange(end - n, end)) % size
        return self._samples[idx].copy()

    def summary(self, n: Optional[int] = None) -> dict:
        """``latency_summary`` of the last ``n`` samples (the whole window by default);
        ``count`` is every sample recorded, also those that left the window."""
        return {**latency_summary(self.recent(n)), "count": self.count}


class Metrics:
    """Everything measured in one run.

    Attributes:
        stages: stage name -> ``LatencyStats`` of that stage's work per frame.
        end_to_end: capture -> last sink done, per completed frame.
        frames_done: frames that left the pipeline through the counting sink stage.
        rings: the pipeline's rings (for drops and occupancy), set by the runner.
        current: the latest PERF values (``fps``, ``latency_ms``, ``dropped``), refreshed by
            ``tick``; read by the overlay's HUD from another thread (a dict swap, no lock).
    """

    def __init__(self, window: int = 4096):
        self.window = window
        self.stages: Dict[str, LatencyStats] = {}
        self.end_to_end = LatencyStats(window)
        self.frames_done = 0
        self.last_frame_id = -1
        self.rings: List = []
        self.engine: Optional[str] = None
        self.start_time: Optional[float] = None
        self.end_time: Optional[float] = None
        self.current: dict = {}
        # what the source lost (skipped frame ranges, unreadable images); set by run_app
        self.source_report: Optional[dict] = None
        self._tick_t: Optional[float] = None
        self._tick_frames = 0

    def stage(self, name: str) -> LatencyStats:
        """The stats of stage ``name`` (created on first use, before the threads start)."""
        if name not in self.stages:
            self.stages[name] = LatencyStats(self.window)
        return self.stages[name]

    def start(self) -> None:
        self.start_time = self._tick_t = time.monotonic()
        self._tick_frames = 0

    def stop(self) -> None:
        self.end_time = time.monotonic()

    def frame_done(self, meta, now: float) -> None:
        """A frame left the pipeline (called by the one counting sink stage)."""
        self.end_to_end.record(now - meta.capture_ts)
        self.last_frame_id = meta.frame_id
        self.frames_done += 1

    @property
    def dropped(self) -> int:
        return sum(r.dropped for r in self.rings)

    def elapsed(self) -> float:
        if self.start_time is None:
            return 0.0
        return (self.end_time or time.monotonic()) - self.start_time

    def fps(self) -> float:
        """Average end-to-end frames per second since the start."""
        t = self.elapsed()
        return self.frames_done / t if t > 0 else 0.0

    def tick(self) -> dict:
        """Refresh ``current`` with the FPS since the previous tick and recent latency."""
        now = time.monotonic()
        done = self.frames_done
        dt = now - (self._tick_t or now)
        fps = (done - self._tick_frames) / dt if dt > 0 else 0.0
        self._tick_t, self._tick_frames = now, done
        lat = self.end_to_end.summary(64)
        self.current = {"fps": round(fps, 1), "latency_ms": lat.get("p50_ms"),
                        "dropped": self.dropped, "engine": self.engine}
        return self.current

    def perf_line(self) -> str:
        """One status line: FPS, end-to-end latency, per-stage p50, drops, ring occupancy."""
        cur = self.tick()
        lat = self.end_to_end.summary(256)
        parts = [f"PERF fps={cur['fps']:.1f} (avg {self.fps():.1f}) frames={self.frames_done}"]
        if "p50_ms" in lat:
            parts.append(f"latency p50={lat['p50_ms']:.0f}ms p95={lat['p95_ms']:.0f}ms")
        stages = " ".join(f"{name}={s.summary(256).get('p50_ms', 0):.1f}"
                          for name, s in self.stages.items() if s.count)
        if stages:
            parts.append(f"stage p50 ms: {stages}")
        parts.append(f"drops={self.dropped}")
        if self.rings:
            parts.append("rings " + " ".join(f"{len(r)}/{r.capacity}" for r in self.rings))
        return " | ".join(parts)

    def summary(self) -> dict:
        """The JSON summary of the run."""
        return {
            "frames": self.frames_done,
            "last_frame_id": self.last_frame_id,
            "elapsed_s": round(self.elapsed(), 3),
            "fps": round(self.fps(), 2),
            "engine": self.engine,
            "end_to_end": self.end_to_end.summary(),
            "stages": {name: s.summary() for name, s in self.stages.items()},
            "dropped": self.dropped,
            "rings": {r.name: r.stats() for r in self.rings},
            **({"source": self.source_report} if self.source_report else {}),
        }

    def write_json(self, path, flag: str = "--stats") -> Path:
        """Write ``summary()`` to ``path`` (its folder must exist), all at once: a temporary
        name renamed into place (``lanecam.pipeline.outputs.write_atomic``)."""
        from lanecam.pipeline.outputs import check_writable_folder, write_atomic

        check_writable_folder(flag, path)
        return write_atomic(path, json.dumps(self.summary(), indent=2) + "\n", flag)
