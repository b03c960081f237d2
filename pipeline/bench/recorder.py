"""Per-frame timestamps of a run, for FPS, latency and the timeline plot.

``FrameTimeline`` keeps, per finished frame, its id, capture time and the time each stage
finished it, in preallocated arrays (recording costs a few array stores per frame).
``RecordingSink`` fills one from the pipeline's ``FrameMeta`` as the sink stage writes each
frame; the sequential loop fills one directly.
"""

from typing import Dict, Optional, Sequence

import numpy as np

from lanecam.pipeline.sinks.base import Sink

__all__ = ["FrameTimeline", "RecordingSink", "TIMELINE_STAGES"]

# the stages whose finishing times are recorded, in pipeline order
TIMELINE_STAGES = ("source", "preprocess", "infer", "postprocess", "sink")


class FrameTimeline:
    """Timestamps (``time.monotonic()``) of up to ``capacity`` frames.

    Attributes:
        n: frames recorded.
        frame_id: (capacity,) int64.
        capture: (capacity,) capture time of each frame.
        done: ``{stage: (capacity,)}`` time each stage finished the frame (NaN if unknown).
    """

    def __init__(self, capacity: int, stages: Sequence[str] = TIMELINE_STAGES):
        self.capacity = int(capacity)
        self.stages = tuple(stages)
        self.n = 0
        self.frame_id = np.full(self.capacity, -1, np.int64)
        self.capture = np.full(self.capacity, np.nan)
        self.done: Dict[str, np.ndarray] = {s: np.full(self.capacity, np.nan) for s in self.stages}

    def add(self, frame_id: int, capture: float, stage_done: Dict[str, float]) -> None:
        """Record one finished frame (ignored beyond the capacity)."""
        i = self.n
        if i >= self.capacity:
            return
        self.frame_id[i] = frame_id
        self.capture[i] = capture
        for s in self.stages:
            t = stage_done.get(s)
            if t is not None:
                self.done[s][i] = t
        self.n = i + 1

    def finished(self) -> np.ndarray:
        """Time each recorded frame left the pipeline (its last known stage time)."""
        out = self.capture[:self.n].copy()
        for s in self.stages:
            t = self.done[s][:self.n]
            out = np.where(np.isnan(t), out, np.fmax(out, t))
        return out

    def to_dict(self, first: int = 0, count: Optional[int] = None) -> dict:
        """Frames ``first .. first+count`` as lists of ms since the first capture (for plots)."""
        end = self.n if count is None else min(self.n, first + count)
        if end <= first:
            return {"frame_id": [], "capture_ms": [], "done_ms": {}}
        t0 = self.capture[0]
        ms = lambda a: np.round((a[first:end] - t0) * 1e3, 3).tolist()  # noqa: E731
        return {"frame_id": self.frame_id[first:end].tolist(), "capture_ms": ms(self.capture),
                "done_ms": {s: ms(self.done[s]) for s in self.stages}}


class RecordingSink(Sink):
    """A null sink that records each frame's ``FrameMeta`` timestamps into a ``FrameTimeline``.

    The sink stage writes it last, after the real sinks, so the ``sink`` time is taken here.
    """

    name = "bench-recorder"

    def __init__(self, timeline: FrameTimeline, clock):
        super().__init__()
        self.timeline = timeline
        self.clock = clock

    def _write(self, frame, result, meta) -> None:
        if meta is None:
            return
        stages = dict(meta.stage_ts)
        stages["sink"] = self.clock()
        self.timeline.add(meta.frame_id, meta.capture_ts, stages)
