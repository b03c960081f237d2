"""Synthetic ground truth for geometry tests: a circular road seen by a pinhole camera.

Independent of the road renderer: lines are exact circles (not parabolas) projected with the
pose homography, so the estimator's quadratic fit and bird's-eye mapping are really tested.
"""

import math

import numpy as np

from lanecam.calibration import Profile, birdseye_from_pose, pose_ground_to_image
from lanecam.pipeline.lanes.result import Lane, LaneResult

W, H = 1280, 720
K = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
HEIGHT_M, PITCH_RAD = 1.4, math.radians(3.0)


def make_profile(k=K, size=(W, H), height_m=HEIGHT_M, pitch_rad=PITCH_RAD, roll_rad=0.0,
                 dist=None):
    """A profile of a distortion-free camera with its bird's-eye view from its pose."""
    bird = birdseye_from_pose(k, size, height_m, pitch_rad, roll_rad, y_far_m=45.0)
    return Profile(size, np.asarray(k, float), np.zeros(5) if dist is None else dist, bird)


def line_xy(radius_m, offset_m, width_m, side, ys):
    """Road metres of one line of a lane whose centre has signed radius ``radius_m`` at the
    vehicle, the vehicle ``offset_m`` right of the centre; side -1 = left line, +1 = right."""
    s = side * width_m / 2.0
    if not math.isfinite(radius_m):
        xs = np.full_like(ys, -offset_m + s)
    else:
        r = radius_m - s
        xs = -offset_m + radius_m - math.copysign(1.0, radius_m) * np.sqrt(r * r - ys * ys)
    return np.c_[xs, ys]


def project(xy_m, k=K, height_m=HEIGHT_M, pitch_rad=PITCH_RAD, roll_rad=0.0, size=(W, H)):
    """Road metres -> frame pixels, keeping those inside the frame, ordered by y."""
    g = pose_ground_to_image(k, height_m, pitch_rad, roll_rad)
    h = np.c_[xy_m, np.ones(len(xy_m))] @ g.T
    px = h[:, :2] / h[:, 2:]
    inside = (px[:, 0] >= 0) & (px[:, 0] < size[0]) & (px[:, 1] >= 0) & (px[:, 1] < size[1])
    px = px[inside]
    return px[np.argsort(px[:, 1])].astype(np.float32)


def lane_result(frame_id, radius_m=math.inf, offset_m=0.0, width_m=3.7, noise_px=0.0,
                rng=None, y_max=50.0, drop=(), **cam):
    """A LaneResult with L1/R1 of the given road (slots in ``drop`` left out)."""
    ys = np.linspace(0.5, y_max, 120)
    lanes = []
    for slot, side in (("L1", -1), ("R1", 1)):
        if slot in drop:
            continue
        px = project(line_xy(radius_m, offset_m, width_m, side, ys), **cam)
        if noise_px:
            px = px + (rng or np.random.default_rng(0)).normal(0, noise_px, px.shape)
        lanes.append(Lane(slot, px.astype(np.float32), 0.9, 0.9))
    return LaneResult(frame_id, lanes)
