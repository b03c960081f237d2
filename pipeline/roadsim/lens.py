"""Wide-angle (barrel) lens: the rendered pinhole frame warped to a distorted one, and label
points mapped the same way.

Model, in normalised coordinates of the output frame (q = (p - c) / f_out):
``q_pinhole = q_out * (1 + k |q_out|^2)``, k > 0 (barrel: content is pushed to the centre).
The output focal length is chosen so that the frame corners map to the pinhole corners, so every
output pixel samples inside the rendered image and nothing is cropped at the corners. Roll is
folded into the same map: output pixel -> pinhole (rolled) frame -> level image, one remap.
"""

import math

import cv2
import numpy as np

__all__ = ["out_focal", "distort_points", "warp_frame"]

_GRID = 8   # the map is smooth: compute it every _GRID pixels and interpolate


def out_focal(cam, k: float) -> float:
    """Focal length (px) of the distorted frame whose corners see the pinhole corners."""
    corner = math.hypot(max(cam.cx, cam.width - cam.cx), max(cam.cy, cam.height - cam.cy))
    target = corner / cam.fx                       # pinhole normalised radius of the corner
    t = target
    for _ in range(30):                            # Newton on t + k t^3 = target
        t -= (t + k * t ** 3 - target) / (1.0 + 3.0 * k * t * t)
    return corner / t


def distort_points(pts: np.ndarray, cam, k: float) -> np.ndarray:
    """Pinhole-frame pixels (N, 2) -> distorted-frame pixels (N, 2)."""
    if k <= 0 or not len(pts):
        return pts
    f_out = out_focal(cam, k)
    c = np.array([cam.cx, cam.cy])
    q = (np.asarray(pts, np.float64)[:, :2] - c) / cam.fx
    ru = np.hypot(q[:, 0], q[:, 1])
    rd = ru.copy()
    for _ in range(12):                            # monotonic for k > 0: Newton converges
        rd -= (rd + k * rd ** 3 - ru) / (1.0 + 3.0 * k * rd * rd)
    scale = np.where(ru > 1e-12, rd / np.maximum(ru, 1e-12), 1.0)
    return c + q * scale[:, None] * f_out


def _maps(cam, k: float):
    """float32 remap tables (output pixel -> level-image pixel)."""
    h, w = cam.height, cam.width
    f_out = out_focal(cam, k)
    # cv2.resize puts coarse sample i at fine pixel (i + 0.5) * G - 0.5: place the samples
    # there, with one spare on each side so the border pixels are interpolated, not clamped
    ny, nx = -(-h // _GRID) + 2, -(-w // _GRID) + 2
    ys = (np.arange(ny) + 0.5) * _GRID - 0.5 - _GRID
    xs = (np.arange(nx) + 0.5) * _GRID - 0.5 - _GRID
    qx = (xs[None, :] - cam.cx) / f_out
    qy = (ys[:, None] - cam.cy) / f_out
    s = 1.0 + k * (qx * qx + qy * qy)
    px = cam.cx + cam.fx * qx * s                  # pinhole (rolled) frame
    py = cam.cy + cam.fx * qy * s
    inv = cv2.invertAffineTransform(cam.level_to_frame())
    lx = inv[0, 0] * px + inv[0, 1] * py + inv[0, 2]
    ly = inv[1, 0] * px + inv[1, 1] * py + inv[1, 2]
    size = (nx * _GRID, ny * _GRID)
    mx = cv2.resize(lx.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    my = cv2.resize(ly.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    return (np.ascontiguousarray(mx[_GRID:_GRID + h, _GRID:_GRID + w]),
            np.ascontiguousarray(my[_GRID:_GRID + h, _GRID:_GRID + w]))


def warp_frame(img: np.ndarray, cam, k: float) -> np.ndarray:
    """The level float image seen through the rolled, distorted lens."""
    mx, my = _maps(cam, k)
    return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
