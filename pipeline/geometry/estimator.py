"""Per-frame lane geometry in metres from a LaneResult: the stage the postprocessor calls."""

import math
from typing import Optional

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.geometry.departure import DepartureWarning
from lanecam.pipeline.geometry.fit import Gates, Measurement, curvature_at, fit_ego, offset_m, radius_m
from lanecam.pipeline.geometry.smoothing import LaneSmoother
from lanecam.pipeline.lanes.result import LaneResult

__all__ = ["GeometryEstimator", "GEOMETRY_KEYS"]

GEOMETRY_KEYS = ("valid", "curvature_radius_m", "offset_m", "lane_width_m", "departure",
                 "curvature_1pm", "offset_rate_mps", "centre_coeffs_m", "status", "raw")


def _r(v, nd=4):
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


class GeometryEstimator:
    """Curvature, offset, lane width and departure state of the ego lane, frame after frame.

    Args:
        profile: a ``lanecam.calibration.Profile`` with a ``birdseye`` section.
        frame_width, frame_height: size of the frames whose pixels the lanes are given in.
        undistorted: True when the lane points come from undistorted frames (the pipeline
            ran with the profile's undistortion maps); False undistorts the points here.
        fps: frame rate, for the offset rate in m/s (frame ids give the time between frames).
        gates, smoother, departure: override the defaults of ``Gates``, ``LaneSmoother``,
            ``DepartureWarning``.
        max_range_m: ignore lane points farther ahead than this (default: the far edge of
            the profile's bird's-eye view, where the picked points end).

    ``update(result)`` must be called once per frame in frame order; it returns the geometry
    dict (see ``GEOMETRY_KEYS``) and also stores it in ``result.geometry``.
    """

    def __init__(self, profile, frame_width: int, frame_height: int, *, undistorted: bool = True,
                 fps: float = 25.0, gates: Optional[Gates] = None,
                 smoother: Optional[LaneSmoother] = None,
                 departure: Optional[DepartureWarning] = None,
                 max_range_m: Optional[float] = None, rate_alpha: float = 0.3):
        if getattr(profile, "birdseye", None) is None:
            raise InputError("calibration profile: missing key 'birdseye' (add it with "
                             "`lanecam birdseye PROFILE --points ...`)")
        if frame_width <= 0 or frame_height <= 0 or not fps > 0:
            raise InputError(f"geometry: expected a positive frame size and fps, got "
                             f"{frame_width}x{frame_height} at {fps}")
        self.profile, self.bird = profile, profile.birdseye
        self.size = (int(frame_width), int(frame_height))
        self.undistorted, self.fps = undistorted, float(fps)
        self.homography = self.bird.homography(*self.size)
        if max_range_m is None:
            max_range_m = float(self.bird.to_metric(self.bird.dst)[:, 1].max())
        self.max_range_m = float(max_range_m)
        self.gates = gates or Gates()
        self.smoother = smoother or LaneSmoother()
        self.departure = departure or DepartureWarning()
        self.rate_alpha = float(rate_alpha)
        self._last = None  # (frame_id, smoothed offset) for the rate
        self._rate = 0.0

    def to_road(self, points_px: np.ndarray) -> np.ndarray:
        """Frame pixels (N, 2) -> road metres (M, 2), dropping points at or above the horizon
        and beyond ``max_range_m``."""
        pts = np.asarray(points_px, np.float64).reshape(-1, 2)
        if not self.undistorted:
            pts = self.profile.undistort_points(pts, *self.size)
        h = np.c_[pts, np.ones(len(pts))] @ self.homography.T
        ahead = h[:, 2] > 1e-9  # behind the horizon the projection flips sign
        top = h[ahead, :2] / h[ahead, 2:]
        xy = self.bird.to_metric(top)
        keep = (xy[:, 1] >= -5.0) & (xy[:, 1] <= self.max_range_m)
        return xy[keep]

    def measure(self, result: LaneResult) -> Measurement:
        """The raw (unsmoothed) measurement of one frame."""
        lines = []
        for slot in ("L1", "R1"):
            lane = result.lane(slot)
            ok = lane is not None and len(lane.points) >= 2
            lines.append(self.to_road(lane.points) if ok else None)
        return fit_ego(lines[0], lines[1], self.gates, self.smoother.width_m)

    def reset(self) -> None:
        """Forget the history (a new video)."""
        self.smoother.reset()
        self.departure.reset()
        self._last, self._rate = None, 0.0

    def update(self, result: LaneResult) -> dict:
        """Estimate the geometry of ``result`` (frames in order); returns and stores the dict."""
        m = self.measure(result)
        status = self.smoother.update(m, result.frame_id)
        coeffs = self.smoother.coeffs
        if coeffs is None:
            self._last, self._rate = None, 0.0
            curv = off = width = None
        else:
            curv, off, width = curvature_at(coeffs), offset_m(coeffs), self.smoother.width_m
            if status in ("init", "reset", "lane_change"):
                self._rate = 0.0  # a jump is not a motion
            elif self._last is not None and result.frame_id > self._last[0]:
                dt = (result.frame_id - self._last[0]) / self.fps
                inst = (off - self._last[1]) / dt
                self._rate += self.rate_alpha * (inst - self._rate)
            self._last = (result.frame_id, off)
        departure = self.departure.update(off, self._rate if off is not None else None)
        raw_k = curvature_at(m.coeffs) if m.coeffs is not None else None
        geometry = {
            "valid": coeffs is not None,
            "curvature_radius_m": _r(radius_m(curv), 1) if curv is not None else None,
            "offset_m": _r(off),
            "lane_width_m": _r(width),
            "departure": departure,
            "curvature_1pm": _r(curv, 7) if curv is not None else None,
            "offset_rate_mps": _r(self._rate) if coeffs is not None else None,
            "centre_coeffs_m": None if coeffs is None else [float(v) for v in coeffs],
            "status": status,
            "raw": {
                "valid": bool(m.valid),
                "reason": m.reason,
                "lines": m.lines,
                "curvature_radius_m": _r(radius_m(raw_k), 1) if raw_k is not None else None,
                "curvature_1pm": _r(raw_k, 7) if raw_k is not None else None,
                "offset_m": _r(offset_m(m.coeffs)) if m.coeffs is not None else None,
                "lane_width_m": _r(m.width_m),
                "range_m": _r(m.range_m, 1),
            },
        }
        result.geometry = geometry
        return geometry
