"""Noise textures shared by every scene, made once per process from fixed seeds.

Scenes pick offsets, scales and thresholds into them, so a frame stays a pure function of its
seed while no texture is synthesised per frame.
"""

import cv2
import numpy as np

__all__ = ["ground_bank", "grain", "vignette", "noise1d", "TEX_D_RES", "TEX_S_RES", "TEX_N"]

TEX_N = 512
TEX_D_RES = 0.08   # metres across the road per texel
TEX_S_RES = 0.25   # metres along the road per texel
_CACHE = {}


def _fft_noise(rng, shape, beta):
    """Periodic 1/f^beta noise, zero mean, unit std."""
    white = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = np.fft.rfft2(white) / f ** beta
    spec[0, 0] = 0.0
    n = np.fft.irfft2(spec, s=shape)
    return (n - n.mean()) / n.std()


def ground_bank() -> np.ndarray:
    """(TEX_N, TEX_N, 2) float32 in road coordinates (rows = s, cols = d), tileable.

    Channel 0: zero-mean albedo variation (blotches, repair patches, cracks, tar snakes).
    Channel 1: a unit-std canopy field; thresholding it per scene gives tree shadows."""
    if "ground" in _CACHE:
        return _CACHE["ground"]
    rng = np.random.default_rng(1729)
    n = TEX_N
    alb = 0.5 * _fft_noise(rng, (n, n), 1.1) + 0.25 * _fft_noise(rng, (n, n), 0.6)
    for _ in range(26):  # repair patches: rectangles a few metres in size, darker or lighter
        h = int(rng.uniform(3, 14) / TEX_S_RES)
        w = int(rng.uniform(1.5, 4.5) / TEX_D_RES)
        r, c = rng.integers(0, n - h), rng.integers(0, n - w)
        alb[r:r + h, c:c + w] += rng.choice([-1.0, 0.7]) * rng.uniform(0.4, 1.0)
    for _ in range(40):  # cracks and sealant lines
        pts = np.cumsum(rng.normal(0, 6, (8, 2)), axis=0) + rng.integers(0, n, 2)
        cv2.polylines(alb, [pts.astype(np.int32)], False, float(-rng.uniform(0.8, 1.8)), 1)
    alb = cv2.GaussianBlur(alb.astype(np.float32), (0, 0), 0.8, borderType=cv2.BORDER_REFLECT)
    shade = _fft_noise(rng, (n, n), 1.45)
    bank = np.dstack([alb / max(alb.std(), 1e-6) * 0.5, shade]).astype(np.float32)
    _CACHE["ground"] = bank
    return bank


def noise1d(n: int = 4096) -> np.ndarray:
    """Smooth 1D noise in [0, 1] (1 sample per metre), for paint wear along a line."""
    if "n1d" not in _CACHE:
        rng = np.random.default_rng(31337)
        x = np.convolve(rng.standard_normal(n + 40), np.hanning(21), "same")[20:n + 20]
        x = (x - x.min()) / (x.max() - x.min())
        _CACHE["n1d"] = x
    return _CACHE["n1d"]


def grain(height: int, width: int) -> np.ndarray:
    """(height + 32, width + 32, 3) float32 unit normal noise, mostly shared by the channels
    (luminance grain, a little chroma); frames take shifted windows."""
    key = ("grain", height, width)
    if key not in _CACHE:
        rng = np.random.default_rng(4242)
        shape = (height + 32, width + 32)
        lum = rng.standard_normal(shape).astype(np.float32)
        chroma = rng.standard_normal(shape + (3,)).astype(np.float32)
        _CACHE[key] = np.ascontiguousarray(0.85 * lum[..., None] + 0.5 * chroma)
    return _CACHE[key]


def vignette(height: int, width: int) -> np.ndarray:
    """(height, width, 3) float32 radial falloff, 0 at the centre, ~1 at the corners."""
    key = ("vig", height, width)
    if key not in _CACHE:
        y = (np.arange(height, dtype=np.float32) - height / 2) / (height / 2)
        x = (np.arange(width, dtype=np.float32) - width / 2) / (width / 2)
        v = 0.5 * (x[None, :] ** 2 + y[:, None] ** 2)
        _CACHE[key] = np.ascontiguousarray(np.repeat(v[..., None], 3, axis=2))
    return _CACHE[key]
