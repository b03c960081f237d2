"""Temporal smoothing of the ego-lane fit with outlier gating, gap reset and lane-change reset."""

import math
from typing import Optional, Sequence, Tuple

import numpy as np

from lanecam.pipeline.geometry.fit import Measurement

__all__ = ["LaneSmoother"]


class LaneSmoother:
    """Exponential smoothing of the state (a, b, c, width) of the lane centre line.

    Each valid measurement is compared with the state at a few distances ahead
    (``gate_points``: (Y metres, max lateral disagreement metres)). Inside the gate it is
    blended in with the per-component ``alphas``; outside it is rejected as an outlier. After
    ``reset_after`` rejections in a row the state is replaced (the road really changed, or
    the state was wrong); a jump of about one lane width with an unchanged width is a lane
    change and replaces the state at once. When no measurement has been accepted for more
    than ``max_gap`` frames the state is dropped, and the next valid measurement starts anew.
    """

    def __init__(self, alphas: Sequence[float] = (0.12, 0.2, 0.3, 0.15),
                 gate_points: Sequence[Tuple[float, float]] = ((0.0, 0.5), (20.0, 1.2)),
                 max_gap: int = 10, reset_after: int = 5, lane_change_tol_m: float = 0.6):
        self.alphas = np.asarray(alphas, np.float64)
        if self.alphas.shape != (4,) or np.any(self.alphas <= 0) or np.any(self.alphas > 1):
            raise ValueError(f"alphas: expected 4 values in (0, 1], got {alphas}")
        self.gate_points = [(float(y), float(tol)) for y, tol in gate_points]
        self.max_gap = int(max_gap)
        self.reset_after = int(reset_after)
        self.lane_change_tol_m = float(lane_change_tol_m)
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        self.state: Optional[np.ndarray] = None
        self.last_accepted: Optional[int] = None
        self.rejected_run = 0

    @property
    def width_m(self) -> Optional[float]:
        """Smoothed lane width, or None without a state."""
        return None if self.state is None else float(self.state[3])

    @property
    def coeffs(self) -> Optional[np.ndarray]:
        """Smoothed centre line (a, b, c), or None."""
        return None if self.state is None else self.state[:3].copy()

    def _disagreement(self, vec: np.ndarray, shift: float = 0.0) -> float:
        diffs = [abs(np.polyval(vec[:3], y) - np.polyval(self.state[:3], y) - shift) - tol
                 for y, tol in self.gate_points]
        return max(diffs)

    def update(self, m: Optional[Measurement], frame_id: int) -> str:
        """Feed one frame's measurement (None or invalid = nothing usable); returns what happened.

        Returns one of "init", "update", "reset" (state replaced after repeated rejections),
        "lane_change", "rejected" (outlier, state kept), "hold" (no measurement, state kept),
        "stale" (no measurement for too long: state dropped), "empty" (no state yet).
        """
        if self.state is not None and frame_id - self.last_accepted > self.max_gap:
            self.reset()
            if m is None or not m.valid:
                return "stale"
        if m is None or not m.valid:
            return "empty" if self.state is None else "hold"
        vec = np.r_[m.coeffs, m.width_m]
        if self.state is None:
            return self._replace(vec, frame_id, "init")
        if self._disagreement(vec) <= 0:
            self.state += self.alphas * (vec - self.state)
            self.last_accepted, self.rejected_run = frame_id, 0
            return "update"
        if (abs(vec[3] - self.state[3]) < self.lane_change_tol_m and
                math.isfinite(vec[3]) and m.lines == "both"):
            for side in (1.0, -1.0):  # the centre moved by one lane width
                if self._disagreement(vec, side * self.state[3]) <= self.lane_change_tol_m:
                    return self._replace(vec, frame_id, "lane_change")
        self.rejected_run += 1
        if self.rejected_run >= self.reset_after:
            return self._replace(vec, frame_id, "reset")
        return "rejected"

    def _replace(self, vec, frame_id, status) -> str:
        self.state = vec.astype(np.float64).copy()
        self.last_accepted, self.rejected_run = frame_id, 0
        return status
