"""Sink test helpers: a FrameMeta stand-in and a small lane result."""

import time
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np

from lanecam.pipeline.lanes.result import Lane, LaneResult


@dataclass
class Meta:
    """Duck-typed FrameMeta (the pipeline's own lives in pipeline/core/frames.py)."""

    frame_id: int
    capture_ts: float = field(default_factory=time.monotonic)
    source_ts: float = 0.0
    stage_ts: Dict[str, float] = field(default_factory=dict)
    source_name: Optional[str] = None


def straight_lane(slot: str, x_bottom: float, x_top: float, y_top=300.0, y_bottom=719.0) -> Lane:
    ys = np.linspace(y_top, y_bottom, 8, dtype=np.float32)
    xs = np.interp(ys, [y_top, y_bottom], [x_top, x_bottom]).astype(np.float32)
    return Lane(slot=slot, points=np.stack([xs, ys], 1), confidence=0.91234, exists=0.987654)


def two_lanes(frame_id: int = 0) -> LaneResult:
    left = straight_lane("L1", 300.04, 600.0)
    right = straight_lane("R1", 1000.0, 700.06)
    poly = np.array([[600, 300], [700, 300], [1000, 719], [300, 719]], np.int32)
    return LaneResult(frame_id=frame_id, lanes=[left, right], ego_polygon=poly)
