"""Per-frame lane results: the value types shared by postprocessing, overlay, sinks and geometry."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

__all__ = ["Lane", "LaneResult"]


@dataclass
class Lane:
    """One lane line in frame pixels.

    Attributes:
        slot: slot name ("L2", "L1", "R1", "R2": lines left to right around the ego vehicle).
        points: float32 array (N, 2) of (x, y) frame pixels, ordered by increasing y (top to bottom).
        confidence: mean probability of the slot along the line, 0..1.
        exists: existence probability from the model's existence head (or the confidence
            when the model has none), 0..1.
        coeffs: polynomial x = f(y) coefficients (highest power first) in frame pixels, or None.
    """

    slot: str
    points: np.ndarray
    confidence: float
    exists: float
    coeffs: Optional[np.ndarray] = None

    def x_at(self, ys) -> np.ndarray:
        """x at rows ``ys`` (frame pixels); NaN outside the line's vertical extent."""
        ys = np.asarray(ys, dtype=np.float64)
        out = np.full(ys.shape, np.nan)
        if len(self.points) < 2:
            return out
        y0, y1 = float(self.points[0, 1]), float(self.points[-1, 1])
        inside = (ys >= y0) & (ys <= y1)
        if self.coeffs is not None:
            out[inside] = np.polyval(self.coeffs, ys[inside])
        else:
            out[inside] = np.interp(ys[inside], self.points[:, 1], self.points[:, 0])
        return out


@dataclass
class LaneResult:
    """Everything found in one frame.

    Attributes:
        frame_id: the frame's id from the source.
        lanes: detected lane lines, left to right.
        ego_polygon: int32 (M, 2) polygon of the ego lane in frame pixels, or None.
        geometry: curvature radius (m), lateral offset (m), lane width (m), departure state...
            when a camera calibration is loaded, else None.
        timings_ms: stage name -> latency in milliseconds for this frame.
        warnings: short codes for inputs outside what the model knows (e.g. "no_road",
            "portrait", "strong_roll", "calibration_size"; all listed in
            ``pipeline.trust.WARNING_TEXT``); empty when none.
    """

    frame_id: int
    lanes: List[Lane] = field(default_factory=list)
    ego_polygon: Optional[np.ndarray] = None
    geometry: Optional[Dict[str, object]] = None
    timings_ms: Dict[str, float] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)

    def lane(self, slot: str) -> Optional[Lane]:
        """The lane in ``slot`` or None."""
        for lane in self.lanes:
            if lane.slot == slot:
                return lane
        return None
