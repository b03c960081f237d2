"""Vertical things drawn as projected polygons: roadside trees, light poles, an overpass, and
the ego vehicle's hood; barriers (barriers.py) and vehicles (traffic.py) are drawn from here."""

import cv2
import numpy as np

from lanecam.pipeline.roadsim.road import Centreline
from lanecam.pipeline.roadsim.scene import Scene
from lanecam.pipeline.roadsim.barriers import draw_barrier
from lanecam.pipeline.roadsim.lights import lamp_line
from lanecam.pipeline.roadsim.sprites import paste_sprite, tree_sprites
from lanecam.pipeline.roadsim.traffic import draw_vehicles

__all__ = ["Projector", "draw_roadside", "draw_vehicles", "draw_hood", "hood_top"]

SHIFT = 4
ONE = 1 << SHIFT


class Projector:
    """Road coordinates (sigma ahead, d across, height up) -> level-image pixels."""

    def __init__(self, cam, cl: Centreline):
        self.cam, self.cl = cam, cl

    def __call__(self, sigma, d, up):
        cl = self.cl
        sigma = np.asarray(sigma, np.float64)
        f = np.interp(sigma, cl.sigma, cl.f)
        x = np.interp(sigma, cl.sigma, cl.x) + np.asarray(d) / np.interp(sigma, cl.sigma,
                                                                         cl.cos_t)
        u = np.interp(sigma, cl.sigma, cl.u) + up
        return self.cam.project(x, f, u)


def _poly(img, pts_list, colour):
    pts = [np.round(np.clip(p, -1e5, 1e5) * ONE).astype(np.int32).reshape(-1, 1, 2)
           for p in pts_list]
    cv2.fillPoly(img, pts, tuple(float(c) for c in colour), cv2.LINE_AA, SHIFT)


def _strip(proj, sig, d, lo, hi):
    c0, r0, _ = proj(sig, d, lo)
    c1, r1, _ = proj(sig, d, hi)
    return np.r_[np.c_[c0, r0], np.c_[c1, r1][::-1]]


def draw_roadside(img, scene: Scene, proj: Projector, sig_vis: np.ndarray, s_v: float):
    """Barriers, rails, trees and the overpass, far to near (in place, level image)."""
    light = scene.ambient + 0.6 * scene.sun
    sig = sig_vis[(sig_vis > 1.5) & (sig_vis < 250)]
    if len(sig) < 2:
        return
    sig = sig[np.unique(np.linspace(0, len(sig) - 1, 60).astype(int))]
    _draw_trees(img, scene, proj, sig[0], sig[-1], s_v)
    if scene.poles > 0:
        _draw_poles(img, scene, proj, sig[0], min(sig[-1], 200.0), s_v, light)
    for kind, d, side in scene.barriers:
        draw_barrier(img, scene, proj, sig, kind, d, side, s_v, light)
    if scene.bridge is not None:
        s0, length = scene.bridge
        b = scene.layout.boundaries
        deck = np.array([[-60, 5.2], [b[-1] + 60, 5.2], [b[-1] + 60, 6.8], [-60, 6.8]])
        c, r, z = proj(np.full(4, s0), deck[:, 0], deck[:, 1])
        if np.all(z > 1):
            _poly(img, [np.c_[c, r]], np.full(3, 0.45) * (scene.ambient + 0.3 * scene.sun))
            for pd in (b[0] - scene.shoulders[0] - 1.5, b[-1] + scene.shoulders[1] + 1.5):
                c, r, _ = proj(np.array([s0, s0, s0 + 1.0, s0 + 1.0]), np.full(4, pd),
                               np.array([0, 5.2, 5.2, 0]))
                _poly(img, [np.c_[c, r]], np.full(3, 0.5) * light)


def _draw_trees(img, scene, proj, sig_a, sig_b, s_v):
    if scene.tree_density <= 0.02:
        return
    b = scene.layout.boundaries
    block = 40.0
    trees = []
    for k in range(int((s_v + sig_a) // block), int((s_v + sig_b) // block) + 1):
        rng = np.random.default_rng((scene.seed, k & 0x7FFFFFFF))
        for _ in range(rng.poisson(5 * min(scene.tree_density, 1.2))):
            side = rng.random() < 0.5
            off = rng.uniform(4, 30)
            d = b[0] - scene.shoulders[0] - off if side else b[-1] + scene.shoulders[1] + off
            s = k * block + rng.uniform(0, block) - s_v
            if sig_a < s < sig_b:
                trees.append((s, d, rng.uniform(2.0, 5.5), rng.uniform(1.5, 4.0),
                              rng.uniform(0.6, 1.3), rng.normal(0, 1, (5, 5))))
    trees.sort(key=lambda t: -t[0])
    lit = scene.ambient + 0.5 * scene.sun
    sprites = tree_sprites()
    bark = np.array([0.12, 0.17, 0.22]) * lit
    if not trees:
        return
    trees = trees[-24:]   # the nearest ones; a paste costs tens of microseconds
    cs, rs, zs = proj(np.array([t[0] for t in trees]), np.array([t[1] for t in trees]),
                      np.zeros(len(trees)))
    for (s, d, rad, trunk, shade, q), c, r, z in zip(trees, cs, rs, zs):
        if z < 1.0:
            continue
        height_px = scene.fx * (trunk + 2.2 * rad) / z
        if height_px < 0.012 * scene.height:   # the distant tree line stands in for these
            continue
        k = int(abs(q[0, 0]) * 1000) % len(sprites)
        foliage = np.array(scene.treeline[3]) * shade * lit * (1 + 0.1 * np.clip(q[1, :3], -2, 2))
        paste_sprite(img, sprites[k], foliage, bark, c, r + 0.02 * height_px, height_px,
                     aspect=0.8 + 0.1 * np.clip(q[2, 0], -2, 2))


def _draw_poles(img, scene, proj, sig_a, sig_b, s_v, light):
    """Light poles along the right (or left) verge, with an arm over the road."""
    d, lamp = lamp_line(scene)
    arm = lamp - d
    sp = scene.poles
    ss = np.arange(np.ceil((s_v + sig_a) / sp) * sp, s_v + sig_b, sp) - s_v
    if not len(ss):
        return
    n = len(ss)
    c0, r0, z = proj(ss, np.full(n, d), np.zeros(n))
    c1, r1, _ = proj(ss, np.full(n, d), np.full(n, 10.0))
    c2, r2, _ = proj(ss, np.full(n, d + arm), np.full(n, 10.3))
    col = tuple(float(v) for v in np.full(3, 0.45) * light)
    for i in np.argsort(-ss):
        if z[i] < 1.0:
            continue
        th = max(1, int(round(scene.fx * 0.18 / z[i])))
        cv2.line(img, (int(c0[i] * ONE), int(r0[i] * ONE)), (int(c1[i] * ONE), int(r1[i] * ONE)),
                 col, th, cv2.LINE_AA, SHIFT)
        cv2.line(img, (int(c1[i] * ONE), int(r1[i] * ONE)), (int(c2[i] * ONE), int(r2[i] * ONE)),
                 col, max(1, th - 1), cv2.LINE_AA, SHIFT)
        if scene.street_lights > 0:      # the lamp itself, far brighter than white: it blooms
            r = max(1, int(round(scene.fx * 0.3 / z[i])))
            cv2.ellipse(img, (int(c2[i]), int(r2[i])), (2 * r, r), 0, 0, 360,
                        (2.5, 4.5, 6.0), -1, cv2.LINE_AA)


def hood_top(scene: Scene, width: int, height: int) -> np.ndarray:
    """Row of the hood's upper edge per frame column (inf-free; >= height means no hood)."""
    if scene.hood is None:
        return np.full(width, float(height))
    top, droop, _ = scene.hood
    x = (np.arange(width) - width / 2) / (width / 2)
    return height * (top + droop * x * x)


def draw_hood(frame: np.ndarray, scene: Scene, scale: float = 1.0) -> None:
    """The ego vehicle's hood at the bottom of the frame (in place, frame coordinates);
    ``scale``: the frame's value of white."""
    if scene.hood is None:
        return
    height, width = frame.shape[:2]
    y = hood_top(scene, width, height)
    pts = np.r_[np.c_[np.arange(width), y], [[width - 1, height], [0, height]]]
    col = scene.hood[2] * (scene.ambient + 0.6 * scene.sun) * scale
    # a soft reflection of the sky near the edge
    band = np.c_[np.arange(width), y + 0.012 * height]
    pts2 = np.r_[np.c_[np.arange(width), y], band[::-1]]
    _poly(frame, [pts], col)
    _poly(frame, [pts2], 0.5 * col + 0.3 * scene.sky_hor * (scene.ambient + scene.sun) * scale)
