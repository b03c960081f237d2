"""Night and wet-road lighting: street-light pools on the road, reflections of bright things in a
wet road (long vertical streaks, which look like lane lines but are not), sky sheen, and bloom
(glare) around bright sources. All work on low-resolution copies or separable row/column terms.
"""

import cv2
import numpy as np

__all__ = ["lamp_line", "street_pools", "wet_road", "bloom"]

POOL_R = 9.0   # metres: a 10 m pole lights a disc of about this radius


def lamp_line(scene):
    """(pole d, lamp d) of the street lights: the poles stand on one verge, the lamp hangs
    over the road on an arm. The same for every frame of a scene."""
    b = scene.layout.boundaries
    right = scene.seed % 2 == 0
    d = b[-1] + scene.shoulders[1] + 1.5 if right else b[0] - scene.shoulders[0] - 1.5
    return d, d + (-2.5 if right else 2.5)


def street_pools(rows, scene, u: np.ndarray) -> np.ndarray:
    """(rows, W) float32 illumination of street lights on the ground rows (0 where unlit)."""
    sp = scene.poles
    _, lamp_d = lamp_line(scene)
    ds = np.mod(rows.s, sp)
    along = sum(np.exp(-0.5 * ((ds + j * sp) / POOL_R) ** 2) for j in (-1, 0))
    along = (scene.street_lights * along).astype(np.float32)[:, None]
    d = rows.a.astype(np.float32)[:, None] * u + (rows.b - lamp_d).astype(np.float32)[:, None]
    d *= np.float32(1.0 / (1.6 * POOL_R))      # the pool is wider across than along
    return np.exp(-d * d) * along


def wet_road(img: np.ndarray, scene, r_ground: int, ground: np.ndarray) -> None:
    """Reflections in a wet road below row ``r_ground`` (level float image, in place): bright
    things standing on or above the road (lamps, lights, sky) mirrored into vertical streaks,
    and the sky's sheen near the horizon. ``ground``: the road rows before anything stood on
    them; where the image still equals it, the pixel is road, which reflects nothing."""
    h, w = img.shape[:2]
    if r_ground >= h - 2:
        return
    wet = scene.wet
    sw, sh = max(8, w // 4), max(8, h // 4)
    # 1 where something stands (or sky), 0 on bare road; applied at the low resolution
    stand = np.ones((h, w), np.float32)
    moved = cv2.cvtColor(cv2.absdiff(img[r_ground:], ground), cv2.COLOR_BGR2GRAY)
    stand[r_ground:] = moved > 1e-5
    small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    small *= cv2.resize(stand, (sw, sh), interpolation=cv2.INTER_AREA)[..., None]
    thr = 0.5 if scene.light == "night" else 0.75
    bright = cv2.max(cv2.subtract(small, (thr, thr, thr, 0.0)), 0.0)
    # one-sided vertical kernel: a source at row y lights rows below it, fading with distance;
    # a little sideways spread (separable, so it costs one 1-D pass each way)
    n = max(3, sh // 3)
    ky = np.zeros(2 * n + 1, np.float32)
    ky[n + 1:] = np.exp(-np.arange(n) / (0.35 * n))
    ky *= np.float32((1.2 if scene.light == "night" else 0.4) * wet / ky.sum())
    kx = np.array([0.25, 1.0, 0.25], np.float32) / np.float32(1.5)
    streak = cv2.sepFilter2D(bright, -1, kx, ky, borderType=cv2.BORDER_CONSTANT)
    streak = cv2.resize(streak, (w, h), interpolation=cv2.INTER_LINEAR)
    ground = img[r_ground:]
    cv2.add(ground, streak[r_ground:], dst=ground)
    rows = np.arange(h - r_ground, dtype=np.float32)
    sheen = np.exp(-rows / (0.12 * h))[:, None] * (0.25 * wet * scene.sky_hor
                                                   * (scene.ambient + scene.sun))[None, :]
    sheen = cv2.resize(sheen.astype(np.float32)[:, None, :], (w, h - r_ground),
                       interpolation=cv2.INTER_NEAREST)
    cv2.add(ground, sheen, dst=ground)


def bloom(img: np.ndarray, amount: float, thr: float) -> None:
    """Glare: what is brighter than ``thr`` (image units) spreads into a soft halo (in place)."""
    h, w = img.shape[:2]
    sw, sh = max(8, w // 8), max(8, h // 8)
    small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    hot = cv2.max(cv2.subtract(small, (thr, thr, thr, 0.0)), 0.0)
    halo = cv2.GaussianBlur(hot, (0, 0), max(1.0, sw / 60.0))
    halo += cv2.GaussianBlur(hot, (0, 0), max(2.0, sw / 12.0)) * np.float32(0.5)
    halo = cv2.resize(halo, (w, h), interpolation=cv2.INTER_LINEAR)
    cv2.scaleAdd(halo, float(amount) * 3.0, img, dst=img)
