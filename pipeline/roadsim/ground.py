"""Per-row ground tables of the level image: where each row meets the road.

With a level camera and a laterally flat road, every road quantity of a row is one number
(distance, road position, height) and the lateral road coordinate is affine in the column:
``d = A[row] * col + B[row]``. So the per-pixel work is a handful of broadcasts.
"""

from dataclasses import dataclass

import numpy as np

from lanecam.pipeline.roadsim.camera import Camera
from lanecam.pipeline.roadsim.road import Centreline

__all__ = ["Rows", "ground_rows", "visible_samples"]


@dataclass
class Rows:
    """Ground tables for level-image rows ``r0 .. height-1`` (float64 arrays, one per row)."""

    r0: int
    far_row: float       # level-image row of the farthest visible road point
    sigma: np.ndarray    # road distance ahead
    s: np.ndarray        # absolute road position
    f: np.ndarray        # forward distance (m)
    a: np.ndarray        # d = a * col + b  (metres across the road)
    b: np.ndarray
    fs: np.ndarray       # metres of road per row (footprint along the road)
    depth: np.ndarray    # metres of ray per unit normalised image coordinate


def visible_samples(cam: Camera, cl: Centreline, f_max: float):
    """Indices of centreline samples that are in front of the camera, not hidden behind a
    crest, and nearer than ``f_max``; plus their level-image rows (decreasing)."""
    _, row, z = cam.project(0.0, cl.f, cl.u)
    ok = np.flatnonzero((cl.f > 0.5) & (z > 0.1) & (cl.f < f_max))
    if len(ok) < 2:
        return ok[:0], row[:0]
    # stop at the first gap (e.g. behind the camera) so the run is contiguous
    brk = np.flatnonzero(np.diff(ok) != 1)
    if len(brk):
        ok = ok[:brk[0] + 1]
    rv = row[ok]
    prev_min = np.minimum.accumulate(np.r_[np.inf, rv[:-1]])
    keep = rv < prev_min   # strictly further up: visible over any crest
    return ok[keep], rv[keep]


def ground_rows(cam: Camera, cl: Centreline, f_max: float = 320.0):
    """Row tables for the ground part of the level image, or None when no road is visible."""
    idx, rv = visible_samples(cam, cl, f_max)
    if len(idx) < 2 or rv[-1] > cam.height - 1:
        return None
    far_row = float(rv[-1])
    r0 = int(np.clip(np.ceil(far_row), 0, cam.height - 1))
    rows = np.arange(r0, cam.height, dtype=np.float64)
    sigma = np.interp(rows, rv[::-1], cl.sigma[idx][::-1])
    f = np.interp(sigma, cl.sigma, cl.f)
    x = np.interp(sigma, cl.sigma, cl.x)
    cos_t = np.interp(sigma, cl.sigma, cl.cos_t)
    depth = f / cam.forward_rate(rows)
    a = depth * cos_t / cam.fx
    b = (-depth * cam.cx / cam.fx - x) * cos_t
    s = cl.s[0] - cl.sigma[0] + sigma
    fs = np.abs(np.gradient(sigma)) if len(sigma) > 1 else np.ones(1)
    return Rows(r0, far_row, sigma, s, f, a, b, fs, depth)
