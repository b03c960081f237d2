"""Ground truth of a rendered frame: lane lines per slot as pixel polylines, masks, TuSimple rows."""

from dataclasses import dataclass
from typing import List, Sequence

import cv2
import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["SLOTS", "LaneLineGT", "GroundTruth", "clip_polyline"]

SLOTS = ("L2", "L1", "R1", "R2")
_SHIFT = 3


@dataclass
class LaneLineGT:
    """One labelled lane line.

    ``points``: float32 (N, 2) frame pixels (x, y), increasing y, inside the image, from the
    bottom (or the image edge) up to the visible far end, continuous through dash gaps and
    occluding vehicles. ``offset_m``: lateral position at the vehicle (m, + = right of it)."""

    slot: str
    points: np.ndarray
    color: str
    style: str
    offset_m: float = 0.0


def clip_polyline(pts: np.ndarray, width: int, height: int, bottom=None) -> np.ndarray:
    """Longest run of ``pts`` inside [0, width-1] x [0, min(height-1, bottom(x))], extended to
    where it crosses the border. ``bottom``: optional per-column lowest visible row."""
    if len(pts) == 0:
        return pts.reshape(0, 2)
    x, y = pts[:, 0], pts[:, 1]
    ymax = np.full_like(y, height - 1.0)
    if bottom is not None:
        xi = np.clip(np.round(x), 0, width - 1).astype(int)
        ymax = np.minimum(ymax, bottom[xi])
    g = np.minimum.reduce([x, width - 1.0 - x, y, ymax - y])
    inside = g >= 0
    if not inside.any():
        return pts[:0]
    edges = np.diff(np.r_[0, inside.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    k = int(np.argmax(ends - starts))
    a, b = starts[k], ends[k]
    run = [pts[a:b]]
    if a > 0:
        t = g[a] / (g[a] - g[a - 1])
        run.insert(0, (pts[a] + t * (pts[a - 1] - pts[a]))[None])
    if b < len(pts):
        t = g[b - 1] / (g[b - 1] - g[b])
        run.append((pts[b - 1] + t * (pts[b] - pts[b - 1]))[None])
    out = np.concatenate(run)
    out[:, 0] = np.clip(out[:, 0], 0, width - 1)
    out[:, 1] = np.clip(out[:, 1], 0, height - 1)
    return out


class GroundTruth:
    """Labels of one frame (see the module docs of ``lanecam.pipeline.roadsim``)."""

    def __init__(self, width: int, height: int, lines: List[LaneLineGT], horizon_y: float,
                 camera, curvature_radius_m: float, lateral_offset_m: float,
                 lane_width_m: float, kind: str = "road"):
        self.width, self.height = width, height
        self.kind = kind     # the scene kind (``Scene.kind``), for contact sheets and tests
        self.lines = sorted(lines, key=lambda ln: SLOTS.index(ln.slot))
        self.horizon_y = float(horizon_y)
        self.camera = camera
        self.curvature_radius_m = float(curvature_radius_m)
        self.lateral_offset_m = float(lateral_offset_m)
        self.lane_width_m = float(lane_width_m)

    @property
    def exists(self) -> np.ndarray:
        """bool (4,): which of SLOTS has a line in this frame."""
        have = {ln.slot for ln in self.lines}
        return np.array([s in have for s in SLOTS], bool)

    def slot_mask(self, height: int, width: int, thickness: int = 3, crop_top: float = 0.0,
                  crop_bottom: float = 0.0, crop_left: float = 0.0,
                  crop_right: float = 0.0) -> np.ndarray:
        """uint8 (height, width): 0 background, i + 1 for SLOTS[i], lines drawn ``thickness``
        pixels wide (output pixels). The frame rows [crop_top*H, (1-crop_bottom)*H) and columns
        [crop_left*W, (1-crop_right)*W) are scaled to the output size."""
        if int(height) < 1 or int(width) < 1:
            raise InputError(f"slot_mask: expected a positive size, got {height}x{width}")
        if not (0.0 <= crop_top and 0.0 <= crop_bottom and crop_top + crop_bottom < 1.0):
            raise InputError(f"slot_mask: expected 0 <= crop_top, crop_bottom and "
                             f"crop_top + crop_bottom < 1, got {crop_top}, {crop_bottom}")
        if not (0.0 <= crop_left and 0.0 <= crop_right and crop_left + crop_right < 1.0):
            raise InputError(f"slot_mask: expected 0 <= crop_left, crop_right and "
                             f"crop_left + crop_right < 1, got {crop_left}, {crop_right}")
        if int(thickness) < 1:
            raise InputError(f"slot_mask: expected thickness >= 1, got {thickness}")
        mask = np.zeros((int(height), int(width)), np.uint8)
        y0 = crop_top * self.height
        sy = height / ((1.0 - crop_top - crop_bottom) * self.height)
        x0 = crop_left * self.width
        sx = width / ((1.0 - crop_left - crop_right) * self.width)
        for ln in self.lines:
            p = np.empty_like(ln.points, dtype=np.float64)
            # pixel centres: frame px x maps to (x + 0.5) * sx - 0.5 in the output
            p[:, 0] = (ln.points[:, 0] - x0 + 0.5) * sx - 0.5
            p[:, 1] = (ln.points[:, 1] - y0 + 0.5) * sy - 0.5
            pts = np.round(p * (1 << _SHIFT)).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(mask, [pts], False, SLOTS.index(ln.slot) + 1, int(thickness),
                          cv2.LINE_8, _SHIFT)
        return mask

    def tusimple_lanes(self, h_samples: Sequence[int]) -> List[List[int]]:
        """x (int) per row of ``h_samples`` for each line, left to right; -2 where none."""
        rows = np.asarray(list(h_samples), np.float64)
        out = []
        for ln in self.lines:
            x, y = ln.points[:, 0].astype(np.float64), ln.points[:, 1].astype(np.float64)
            xs = np.interp(rows, y, x)
            ok = (rows >= y[0]) & (rows <= y[-1]) & (xs >= 0) & (xs <= self.width - 1)
            out.append([int(round(v)) if k else -2 for v, k in zip(xs, ok)])
        return out

    def __repr__(self) -> str:
        return (f"GroundTruth({[ln.slot for ln in self.lines]}, offset={self.lateral_offset_m:.2f}"
                f" m, R={self.curvature_radius_m:.0f} m, width={self.lane_width_m:.2f} m)")
