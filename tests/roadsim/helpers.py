"""Shared helpers for the road renderer tests."""

import numpy as np

from lanecam.pipeline.roadsim import random_frame


def frames(seeds, width=320, height=180):
    """(seed, frame, gt) for each seed."""
    return [(s, *random_frame(s, width=width, height=height)) for s in seeds]


def densify(points: np.ndarray, step: float = 1.0) -> np.ndarray:
    """Points every ``step`` pixels along a polyline."""
    seg = np.diff(points, axis=0)
    length = np.r_[0.0, np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))]
    t = np.arange(0.0, length[-1], step)
    return np.c_[np.interp(t, length, points[:, 0]), np.interp(t, length, points[:, 1])]


def x_at(points: np.ndarray, y: float) -> float:
    """x of a polyline (increasing y) at row y, nan outside."""
    if not points[0, 1] <= y <= points[-1, 1]:
        return float("nan")
    return float(np.interp(y, points[:, 1], points[:, 0]))
