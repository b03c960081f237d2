"""Tree sprites: irregular canopies with shading, made once per process from a fixed seed."""

import cv2
import numpy as np

from lanecam.pipeline.roadsim.textures import _fft_noise

__all__ = ["tree_sprites", "paste_sprite"]

_CACHE = {}
SIZE = 128


def _sprite(rng, kind):
    n = SIZE
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    field = np.full((n, n), -2.0, np.float32)
    if kind == 0:      # broad deciduous: a cluster of blobs on a short trunk
        for _ in range(9):
            cx, cy = rng.uniform(0.25, 0.75), rng.uniform(0.15, 0.55)
            r = rng.uniform(0.12, 0.22)
            field = np.maximum(field, 1 - ((xx - cx) ** 2 + (yy - cy) ** 2) / r ** 2)
        trunk_top = 0.6
    elif kind == 1:    # tall, narrow (eucalyptus / poplar)
        for _ in range(8):
            cx, cy = rng.uniform(0.38, 0.62), rng.uniform(0.08, 0.7)
            r = rng.uniform(0.08, 0.16)
            field = np.maximum(field, 1 - ((xx - cx) ** 2 / 0.6 + (yy - cy) ** 2) / r ** 2)
        trunk_top = 0.75
    else:              # conifer: stacked triangles
        w = np.clip((yy - 0.04) * 0.42, 0, None)
        field = 1 - np.abs(xx - 0.5) / np.maximum(w, 1e-3)
        field = np.where(yy < 0.85, field, -2.0)
        trunk_top = 0.85
    noise = _fft_noise(rng, (n, n), 1.0).astype(np.float32)
    alpha = np.clip((field + 0.25 * noise - 0.05) * 6, 0, 1)
    tw = 0.025 if kind != 1 else 0.02
    trunk = (np.abs(xx - 0.5) < tw + 0.01 * noise) & (yy > trunk_top - 0.1)
    shade = np.clip(0.75 + 0.25 * noise + 0.35 * (0.5 - yy) + 0.15 * (0.5 - xx), 0.35, 1.3)
    shade[trunk & (alpha < 0.9)] = 0.45
    alpha = cv2.GaussianBlur(np.maximum(alpha, trunk.astype(np.float32)), (3, 3), 0)
    # one 3-channel image (shade, alpha, bark fraction) so a paste is a single resize
    return np.dstack([shade, alpha, trunk.astype(np.float32)]).astype(np.float32)


def tree_sprites():
    """List of (S, S, 3) float32 sprites: shade, alpha, bark fraction."""
    if "trees" not in _CACHE:
        rng = np.random.default_rng(777)
        _CACHE["trees"] = [_sprite(rng, k % 3) for k in range(9)]
    return _CACHE["trees"]


def paste_sprite(img, sprite, foliage, bark, x_mid, y_base, height_px, aspect=1.0):
    """Blend a tree sprite into ``img`` (float32 BGR) standing at (x_mid, y_base)."""
    th = int(round(height_px))
    tw = int(round(height_px * aspect))
    if th < 2 or tw < 2:
        return
    x0, y0 = int(round(x_mid - tw / 2)), int(round(y_base - th))
    h, w = img.shape[:2]
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(w, x0 + tw), min(h, y0 + th)
    if ax1 <= ax0 or ay1 <= ay0:
        return
    interp = cv2.INTER_AREA if th < SIZE else cv2.INTER_LINEAR
    sp = cv2.resize(sprite, (tw, th), interpolation=interp)[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0]
    s, a, t = sp[..., 0:1], sp[..., 1:2], sp[..., 2:3]
    col = s * (foliage.astype(np.float32) + t * (bark - foliage).astype(np.float32))
    roi = img[ay0:ay1, ax0:ax1]
    roi += a * (col - roi)
