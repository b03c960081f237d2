"""Roadside barriers as projected strips: jersey concrete, guard rails on posts, walls, curbs and
hedges (bushes). They run parallel to the road, so in the image they are long edges converging
to the vanishing point; none of them is a lane line, and none is ever labelled."""

import cv2
import numpy as np

from lanecam.pipeline.roadsim import textures as tx

__all__ = ["draw_barrier"]

SHIFT = 4
ONE = 1 << SHIFT


def _fill(img, pts, colour):
    p = np.round(np.clip(pts, -1e5, 1e5) * ONE).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(img, [p], tuple(float(c) for c in colour), cv2.LINE_AA, SHIFT)


def _strip(proj, sig, d0, lo, d1, hi):
    """The band between (d0, height lo) and (d1, height hi) along ``sig``; lo/hi may be arrays."""
    c0, r0, _ = proj(sig, d0, lo)
    c1, r1, _ = proj(sig, d1, hi)
    return np.r_[np.c_[c0, r0], np.c_[c1, r1][::-1]]


def _ticks(img, proj, s_v, sig, d, lo, hi, step, colour, width_m, far=80.0):
    """Vertical marks (posts, joints, painted blocks) ``width_m`` long along the road, every
    ``step`` m of road up to ``far`` m ahead: quads on the plane at ``d``, one fill call."""
    a, b = sig[0], min(sig[-1], far)
    ss = np.arange(np.ceil((s_v + a) / step) * step, s_v + b, step) - s_v
    if not len(ss):
        return
    s4 = np.repeat(ss, 4) + np.tile([0.0, width_m, width_m, 0.0], len(ss))
    up = np.tile([lo, lo, hi, hi], len(ss))
    c, r, z = proj(s4, np.full(len(s4), d), up)
    quads = np.c_[c, r].reshape(-1, 4, 2)[z.reshape(-1, 4).min(axis=1) > 0.3]
    if len(quads):
        p = np.round(np.clip(quads, -1e5, 1e5) * ONE).astype(np.int32)
        cv2.fillPoly(img, list(p[::-1]), tuple(float(v) for v in colour), cv2.LINE_AA, SHIFT)


def draw_barrier(img, scene, proj, sig, kind: str, d: float, side: str, s_v: float,
                 light: float) -> None:
    """One barrier whose road-side face stands at ``d`` (in place, level image)."""
    face = 0.8 if side == "left" else 1.0      # the sun is on the right in every scene
    out = -1.0 if side == "left" else 1.0       # away from the road
    rng = np.random.default_rng([scene.seed, int(abs(d) * 100), 5])
    if kind == "jersey":
        base = np.full(3, rng.uniform(0.5, 0.72)) * light * face
        _fill(img, _strip(proj, sig, d + out * 0.2, 0.81, d + out * 0.25, 0.81), base * 1.2)
        _fill(img, _strip(proj, sig, d + out * 0.08, 0.33, d + out * 0.2, 0.81), base)
        _fill(img, _strip(proj, sig, d, 0.0, d + out * 0.08, 0.33), base * 0.85)
        _fill(img, _strip(proj, sig, d, 0.0, d, 0.07), base * 0.55)       # road grime
        _ticks(img, proj, s_v, sig, d + out * 0.1, 0.0, 0.8, float(rng.uniform(3.0, 6.0)),
               base * 0.6, 0.04, far=40.0)
    elif kind == "rail":
        steel = np.full(3, rng.uniform(0.55, 0.8)) * light
        step = float(rng.choice([2.0, 2.0, 4.0]))
        _ticks(img, proj, s_v, sig, d + out * 0.25, 0.0, 0.72, step, np.full(3, 0.22) * light,
               0.15, far=120.0)
        _fill(img, _strip(proj, sig, d, 0.5, d, 0.8), steel * face)
        _fill(img, _strip(proj, sig, d, 0.62, d, 0.68), steel * 0.55)     # the W-beam's groove
        _fill(img, _strip(proj, sig, d, 0.76, d, 0.8), steel * 1.25)      # its lit upper lip
    elif kind == "wall":
        h = float(rng.uniform(1.2, 4.0))
        base = np.clip(np.full(3, rng.uniform(0.4, 0.75)) + rng.normal(0, 0.04, 3), 0, 1)
        base = base * light * face
        _fill(img, _strip(proj, sig, d, 0.0, d, h), base)
        _fill(img, _strip(proj, sig, d, 0.0, d, 0.25), base * 0.7)
        _fill(img, _strip(proj, sig, d, h - 0.15, d, h), base * 1.15)
        _ticks(img, proj, s_v, sig, d, 0.0, h, float(rng.uniform(4.0, 8.0)), base * 0.6, 0.05)
    elif kind == "curb":
        stone = np.full(3, rng.uniform(0.55, 0.8)) * light
        _fill(img, _strip(proj, sig, d, 0.15, d + out * 0.18, 0.15), stone * 1.1)
        _fill(img, _strip(proj, sig, d, 0.0, d, 0.15), stone * 0.8 * face)
        if rng.random() < 0.35:  # painted curbs (alternating) are not lane lines either
            paint = np.array([0.1, 0.1, 0.6]) if rng.random() < 0.5 else np.full(3, 0.85)
            _ticks(img, proj, s_v, sig, d, 0.0, 0.15, 2.0, paint * light, 1.0, far=60.0)
    elif kind == "hedge":
        _draw_hedge(img, scene, proj, sig, d, out, s_v, light, rng)


def _draw_hedge(img, scene, proj, sig, d, out, s_v, light, rng):
    """Bushes: a green band with a lumpy top, in two tones."""
    fine = np.geomspace(sig[0], sig[-1], 240)
    n1 = tx.noise1d()
    top = float(rng.uniform(0.6, 2.2))
    lump = np.interp((s_v + fine) * 1.3 + rng.uniform(0, 3000), np.arange(len(n1)), n1,
                     period=len(n1))
    hi = top * (0.55 + 0.7 * lump)
    green = np.clip(np.array([0.12, 0.3, 0.2]) * rng.uniform(0.6, 1.3)
                    + rng.normal(0, 0.03, 3), 0, 1) * light
    _fill(img, _strip(proj, fine, d + out * 0.3, 0.0, d + out * 0.3, hi), green * 0.7)
    _fill(img, _strip(proj, fine, d, 0.0, d, hi * 0.8), green)
    _fill(img, _strip(proj, fine, d, 0.0, d, 0.25 * hi), green * 0.55)
