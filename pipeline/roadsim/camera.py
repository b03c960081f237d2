"""Pinhole camera of the road renderer: pose over the road, intrinsics, roll as an image warp.

Conventions match ``lanecam.calibration.birdseye.pose_ground_to_image``: camera frame x right, y down,
z forward; ``pitch_rad`` > 0 tilts the camera down; the image is rolled by ``K @ R(roll) @ K^-1``
(clockwise in the image is positive). The renderer draws a *level* image (roll 0) and warps it,
which keeps the road rows separable (every ground quantity is a function of the row).
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Camera"]


@dataclass
class Camera:
    """Intrinsics (pixels) and pose (metres, radians) of the renderer's camera."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    height_m: float
    pitch_rad: float
    roll_rad: float = 0.0

    @property
    def matrix(self) -> np.ndarray:
        """3x3 camera matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def level_to_frame(self) -> np.ndarray:
        """2x3 affine from the level (roll-free) image to the frame: K R K^-1."""
        cr, sr = math.cos(self.roll_rad), math.sin(self.roll_rad)
        rot = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
        k = self.matrix
        return (k @ rot @ np.linalg.inv(k))[:2]

    def level_horizon_row(self) -> float:
        """Row of the flat-ground horizon in the level image."""
        return self.cy - self.fy * math.tan(self.pitch_rad)

    def frame_horizon_y(self) -> float:
        """Horizon height in the frame at the principal column (after roll)."""
        m = self.level_to_frame()
        vh = self.level_horizon_row()
        p = m @ np.array([[0.0, self.width], [vh, vh], [1.0, 1.0]])
        (x0, x1), (y0, y1) = p
        if abs(x1 - x0) < 1e-9:
            return float(y0)
        return float(y0 + (y1 - y0) * (self.cx - x0) / (x1 - x0))

    def project(self, x, f, u):
        """Level-image pixels of road points: ``x`` right, ``f`` forward, ``u`` up (metres,
        relative to the road under the camera). Returns (col, row, depth)."""
        s, c = math.sin(self.pitch_rad), math.cos(self.pitch_rad)
        down = self.height_m - np.asarray(u)
        yc = c * down - s * np.asarray(f)
        zc = s * down + c * np.asarray(f)
        zs = np.where(np.abs(zc) < 1e-6, 1e-6, zc)
        return self.cx + self.fx * np.asarray(x) / zs, self.cy + self.fy * yc / zs, zc

    def forward_rate(self, rows: np.ndarray) -> np.ndarray:
        """Forward metres per unit depth of the ray through each level-image row."""
        s, c = math.sin(self.pitch_rad), math.cos(self.pitch_rad)
        return c - s * (rows - self.cy) / self.fy
