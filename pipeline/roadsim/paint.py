"""Painting the road surface: lateral materials, asphalt texture, shadows, lane markings.

Everything is a function of road coordinates (s along, d across), evaluated through the row
tables of ``ground.py``; thin features are box-filtered over the pixel footprint so far
markings fade out smoothly instead of aliasing.
"""

import math

import cv2
import numpy as np

from lanecam.pipeline.roadsim import textures as tx
from lanecam.pipeline.roadsim.ground import Rows
from lanecam.pipeline.roadsim.lights import street_pools
from lanecam.pipeline.roadsim.scene import WHITE, YELLOW, Scene

__all__ = ["paint_ground", "paint_lines", "dash_coverage", "lateral_lut"]

LUT_RES = 0.04
LUT_LEVELS = 9


def dash_coverage(s, fs, dash: float, period: float):
    """Fraction of [s - fs/2, s + fs/2] covered by dashes [k*period, k*period + dash)."""
    fs = np.maximum(fs, 1e-3)

    def integral(x):
        q = np.floor(x / period)
        return q * dash + np.minimum(x - q * period, dash)

    return (integral(s + 0.5 * fs) - integral(s - 0.5 * fs)) / fs


def _gauss(d, c, w):
    return np.exp(-0.5 * ((d - c) / w) ** 2)


def lateral_lut(scene: Scene):
    """(LUT_LEVELS, N, 3) float32 albedo across the road, blurred more at each level, plus the
    d of its first sample. Cached on the scene."""
    if "lut" in scene.extra:
        return scene.extra["lut"]
    rng = np.random.default_rng(scene.seed)
    b = scene.layout.boundaries
    d0 = b[0] - 70.0
    n = int((b[-1] + 70.0 - d0) / LUT_RES)
    d = d0 + np.arange(n) * LUT_RES
    n1 = tx.noise1d()
    col = np.empty((n, 3))
    left = d < b[0] - scene.shoulders[0]
    col[left] = scene.terrain[0]
    col[~left] = scene.terrain[1]
    col *= (0.8 + 0.4 * np.interp(d * 0.7 + scene.seed % 1000, np.arange(len(n1)), n1,
                                  period=len(n1)))[:, None]
    for edge, sgn in ((b[0] - scene.shoulders[0], -1), (b[-1] + scene.shoulders[1], 1)):
        gw = rng.uniform(0.2, 1.5)
        g = (d - edge) * sgn
        col[(g >= 0) & (g < gw)] = np.array([0.42, 0.45, 0.47]) * rng.uniform(0.7, 1.2)
    road = scene.asphalt
    sh_l = road * rng.uniform(0.8, 1.2)
    sh_r = road * rng.uniform(0.8, 1.2)
    col[(d >= b[0] - scene.shoulders[0]) & (d < b[0])] = sh_l
    col[(d >= b[-1]) & (d < b[-1] + scene.shoulders[1])] = sh_r
    on = (d >= b[0]) & (d < b[-1])
    col[on] = road
    dr = d[on]
    mult = np.ones(len(dr))
    for i in range(len(b) - 1):   # wheel tracks (oil or polish) and the oily lane centre
        c = 0.5 * (b[i] + b[i + 1])
        mult += scene.streaks * (_gauss(dr, c - 0.85, 0.3) + _gauss(dr, c + 0.85, 0.3))
        mult += 0.6 * scene.streaks * rng.uniform(0, 1) * _gauss(dr, c, 0.35)
    for bb in b[1:-1]:
        if rng.random() < 0.4:   # tar seam between paving passes
            mult -= rng.uniform(0.1, 0.35) * _gauss(dr, bb + rng.normal(0, 0.3), 0.04)
    col[on] *= mult[:, None]
    # level j: box filter 2^j samples wide = the footprint of a pixel covering 2^j samples
    pad = 2 ** (LUT_LEVELS - 1)
    cs = np.cumsum(np.pad(col, ((pad + 1, pad), (0, 0)), mode="edge"), axis=0)
    levels = np.empty((LUT_LEVELS, n, 3), np.float32)
    levels[0] = col
    i = np.arange(n) + pad + 1
    for j in range(1, LUT_LEVELS):
        h = 2 ** (j - 1)
        levels[j] = (cs[i + h] - cs[i - h]) / (2 * h)
    lut = (levels, d0)
    scene.extra["lut"] = lut
    return lut


def _wear(ln, s):
    """Per-row paint presence along a worn line."""
    if ln.wear <= 0:
        return np.ones_like(s)
    n1 = tx.noise1d()
    n = np.interp(s * 0.6 + 97.0 * ln.d, np.arange(len(n1)), n1, period=len(n1))
    return np.clip(1.0 - (1.2 * ln.wear - n) * 4.0, 0.0, 1.0)


def paint_lines(base: np.ndarray, rows: Rows, lines, retro: float = 1.0) -> None:
    """Blend the painted stripes of ``lines`` into ``base`` ((R, W, 3) rows r0.. of the level
    image), in place. Only a narrow window of columns around each stripe is touched."""
    n_rows, width = base.shape[:2]
    a = rows.a
    for ln in lines:
        if not ln.painted:
            continue
        colour = (YELLOW if ln.color == "yellow" else WHITE) * retro
        along = ln.alpha * _wear(ln, rows.s)
        if ln.style == "dashed":
            along = along * dash_coverage(rows.s + ln.phase, rows.fs, ln.dash, ln.dash + ln.gap)
        for dc, w in ln.stripes():
            xc = (dc - rows.b) / a
            slope = np.abs(np.gradient(xc)) if n_rows > 1 else np.zeros(1)
            fp = a * (1.0 + slope)
            half = 0.5 * w / a + 0.5 * (1.0 + slope)
            sel = (along > 0.01) & (xc + half + 1 >= 0) & (xc - half - 1 <= width - 1)
            if not sel.any():
                continue
            size = np.ceil(np.log2(np.maximum(2 * half + 4, 4))).astype(int)
            for c in np.unique(size[sel]):
                r = np.flatnonzero(sel & (size == c))
                k = int(min(2 ** c, width))
                x0 = np.clip(np.round(xc[r] - 0.5 * k), 0, width - k).astype(np.intp)
                cols = x0[:, None] + np.arange(k)
                d = a[r, None] * cols + rows.b[r, None]
                f = fp[r, None]
                cov = np.clip((0.5 * (w + f) - np.abs(d - dc)) / f, 0.0,
                              np.minimum(1.0, w / fp[r])[:, None])
                cov = (cov * along[r, None]).astype(np.float32)[..., None]
                rr = r[:, None]
                patch = base[rr, cols]
                base[rr, cols] = patch + cov * (colour.astype(np.float32) - patch)


def paint_ground(img: np.ndarray, rows: Rows, scene: Scene, cam, lines) -> None:
    """Paint level-image rows ``rows.r0 ..`` of ``img`` (float32 BGR) with the road."""
    lut, d0 = lateral_lut(scene)
    r0 = rows.r0
    n, width = img.shape[0] - r0, img.shape[1]
    u = np.arange(width, dtype=np.float32)
    a32 = (rows.a / LUT_RES).astype(np.float32)
    mx = a32[:, None] * u + ((rows.b - d0) / LUT_RES).astype(np.float32)[:, None]
    lvl = np.clip(np.log2(np.maximum(rows.a / LUT_RES, 1.0)), 0, LUT_LEVELS - 1)
    my = np.empty((n, width), np.float32)
    my[:] = lvl.astype(np.float32)[:, None]
    base = cv2.remap(lut, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    night = scene.light == "night"
    paint_lines(base, rows, lines, retro=2.6 if night else 1.0)

    bank = tx.ground_bank()
    mx *= LUT_RES / tx.TEX_D_RES
    mx += np.float32(scene.tex_off[0] + d0 / tx.TEX_D_RES)
    my[:] = ((rows.s / tx.TEX_S_RES + scene.tex_off[1]) % tx.TEX_N).astype(np.float32)[:, None]
    tex = cv2.remap(bank, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    amp = (scene.tex_amp / (1.0 + rows.a / 0.08)).astype(np.float32)
    g = tex[..., 0] * amp[:, None]
    g += 1.0
    sun_row = np.full(n, scene.sun)
    if scene.bridge is not None:
        s0, length = scene.bridge
        sun_row *= 1.0 - dash_coverage(rows.sigma - s0, rows.fs, length, 1e6)
    if scene.shadow_thr < 5.0 and scene.sun > 0:
        sh = tex[..., 1]
        sh -= np.float32(scene.shadow_thr)
        sh *= np.float32(scene.shadow_gain)
        np.clip(sh, 0.0, 1.0, out=sh)
        # far away the dapple is finer than a pixel: fade to its mean cover instead of aliasing
        w = (1.0 / (1.0 + (rows.a / 0.12) ** 2)).astype(np.float32)[:, None]
        mean = np.float32(0.5 * math.erfc(scene.shadow_thr / math.sqrt(2.0)))
        sh *= w
        sh += (1.0 - w) * mean
        light = sh * (-sun_row.astype(np.float32))[:, None]
        light += (sun_row + scene.ambient).astype(np.float32)[:, None]
        g *= light
        row_mul = np.ones(n)
    else:
        row_mul = sun_row + scene.ambient
    if night:
        x = rows.depth.astype(np.float32)[:, None] * ((u - cam.cx) / cam.fx)
        spread = (0.14 * rows.f + 1.0).astype(np.float32)[:, None]
        x -= np.float32(0.35)           # low beams lean to the kerb side
        x /= spread
        head = np.exp(-x * x)
        head *= (1.1 / (1.0 + (rows.f / 22.0) ** 2) * (rows.f > 2.0)).astype(np.float32)[:, None]
        head += np.float32(scene.ambient)
        if scene.street_lights > 0 and scene.poles > 0:
            head += street_pools(rows, scene, u)
        g *= head
        row_mul = np.ones(n)
    if scene.joint is not None:
        period, ph = scene.joint
        row_mul = row_mul * (1.0 - 0.45 * dash_coverage(rows.s + ph, rows.fs, 0.04, period))
    fog = 1.0 - np.exp(-rows.f / scene.fog_m)
    g *= (row_mul * (1.0 - fog)).astype(np.float32)[:, None]
    dst = img[r0:]
    cv2.multiply(base, cv2.cvtColor(g, cv2.COLOR_GRAY2BGR), dst=base)
    hz = (fog[:, None] * scene.haze[None, :]).astype(np.float32)[:, None, :]
    cv2.add(base, cv2.resize(hz, (width, n), interpolation=cv2.INTER_NEAREST), dst=dst)
