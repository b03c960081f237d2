"""Frames without a road: black (lens cap, first frame of a clip), blown out (sensor saturated),
sky only (camera tilted up), a dark tunnel. Their labels are empty: no lanes."""

import math

import cv2
import numpy as np

from lanecam.pipeline.roadsim.backdrop import paint_backdrop
from lanecam.pipeline.roadsim.labels import GroundTruth

__all__ = ["render_no_road"]


def _fill(img, scene, cam, rng):
    """The level float image of a no-road scene (the camera effects come later)."""
    h, w = img.shape[:2]
    kind = scene.no_road
    if kind == "black":
        img[:] = float(rng.uniform(0.0, 0.03))
    elif kind == "white":
        # saturated: a bright field with a faint, line-free structure left in it
        yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        img[:] = np.float32(rng.uniform(1.2, 3.0)) - np.float32(rng.uniform(0.0, 0.3)) * yy
    elif kind == "sky":
        cam.pitch_rad = -abs(math.atan(rng.uniform(0.55, 1.2) * h / cam.fy))  # tilted up
        paint_backdrop(img, scene, cam, h, float(rng.uniform(0, 6.3)))
    else:
        # a tunnel too dark to see the road: dim walls and a row of ceiling lamps
        img[:] = float(rng.uniform(0.01, 0.05))
        n = int(rng.integers(3, 9))
        vx, vy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.5)
        for i in range(n):
            t = (i + 1) / n
            cx, cy = vx + (rng.uniform(-0.1, 0.1) * w) * t, vy - 0.45 * h * t ** 2
            r = max(1, int(0.03 * w * t * t))
            cv2.ellipse(img, (int(cx), int(cy)), (3 * r, r), 0, 0, 360,
                        (0.5, 0.8, 1.4), -1, cv2.LINE_AA)


def render_no_road(scene, cam, rng, finish, out=None, work=None):
    """(frame, GroundTruth with no lines) for ``scene.no_road``; ``finish`` applies the
    camera effects (passed in to keep this module free of the effects' imports)."""
    img = work if work is not None else np.empty((cam.height, cam.width, 3), np.float32)
    _fill(img, scene, cam, rng)
    gt = GroundTruth(cam.width, cam.height, [], cam.frame_horizon_y(), cam, math.inf, 0.0,
                     scene.layout.lane_widths[scene.ego_lane])
    gt.kind = scene.kind
    return finish(img, scene, cam, rng, out), gt
