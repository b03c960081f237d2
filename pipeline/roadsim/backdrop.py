"""Sky, clouds, distant hills and tree lines, and the far ground beyond the road's end."""

import cv2
import numpy as np

from lanecam.pipeline.roadsim import textures as tx
from lanecam.pipeline.roadsim.scene import Scene

__all__ = ["paint_backdrop"]


def _n1(x):
    n1 = tx.noise1d()
    return np.interp(x, np.arange(len(n1)), n1, period=len(n1))


def paint_backdrop(img: np.ndarray, scene: Scene, cam, r_ground: int, heading: float) -> None:
    """Fill level-image rows above ``r_ground`` (float32 BGR, in place). ``heading`` (rad) of
    the road turns the distant scenery with the vehicle."""
    height, width = img.shape[:2]
    if r_ground <= 0:
        return
    vh = cam.level_horizon_row()
    rows = np.arange(r_ground, dtype=np.float32)
    span = 0.7 * height
    t = np.clip((vh - rows) / span, 0.0, 1.0)[:, None]
    sky = (scene.sky_hor[None, :] * (1 - t) + scene.sky_top[None, :] * t).astype(np.float32)
    top = img[:r_ground]
    cv2.resize(sky[:, None, :], (width, r_ground), dst=top, interpolation=cv2.INTER_NEAREST)
    if scene.light in ("day", "overcast", "dusk") and vh > 2:
        # clouds: a low-resolution window of the canopy field, stretched along the horizon
        bank = tx.ground_bank()[..., 1]
        h4, w4 = max(2, int(min(vh, r_ground)) // 4), max(2, width // 4)
        off = scene.seed % 300
        c = cv2.resize(np.ascontiguousarray(bank[off:off + 64, off:off + 200]), (w4, h4))
        thr = 0.3 if scene.light == "overcast" else 1.0
        c = np.clip((c - thr) * 0.6, 0, 1)
        c = cv2.resize(c, (width, h4 * 4))[:min(h4 * 4, r_ground)]
        cloud = np.full(3, 0.95 if scene.light != "overcast" else 0.5, np.float32)
        sub = top[:c.shape[0]]
        c3 = cv2.cvtColor(c, cv2.COLOR_GRAY2BGR)
        cv2.multiply(sub, cv2.subtract(1.0, c3), dst=sub)
        cv2.add(sub, cv2.multiply(c3, (*cloud.tolist(), 0.0)), dst=sub)
    # ground between the horizon and the end of the visible road: distant terrain in haze
    g0 = int(np.clip(np.floor(vh), 0, r_ground))
    if g0 < r_ground:
        far = 0.5 * (scene.terrain[0] + scene.terrain[1]) * (scene.sun + scene.ambient)
        far = (0.35 * far + 0.65 * scene.haze).astype(np.float32)
        img[g0:r_ground] = far
    # silhouettes: hills (smooth) and tree lines (bumpy), in angular units so FOV is respected
    ang = (np.arange(width) - cam.cx) / cam.fx + heading
    hill_amp, tree_amp, phase, tree_col = scene.treeline
    hills = hill_amp * height * _n1(ang * 6.0 + phase)
    trees = tree_amp * height * _n1(ang * 60.0 + phase + 1000.0) ** 1.5
    m_amp, m_col = scene.mountains
    mountains = m_amp * height * (0.65 * _n1(ang * 6.0 + phase + 2000.0)
                                  + 0.35 * _n1(ang * 23.0 + phase + 2500.0)) ** 1.5
    for h, col, mix in ((mountains, m_col, 0.6),
                        (hills, 0.6 * tree_col + 0.4 * scene.haze, 0.45),
                        (trees, tree_col, 0.25)):
        hmax = int(np.ceil(h.max())) + 1
        ra, rb = int(max(0, np.floor(vh) - hmax)), int(min(r_ground, np.ceil(vh) + 1))
        if rb <= ra:
            continue
        rr = np.arange(ra, rb, dtype=np.float32)[:, None]
        cover = np.clip(rr - (vh - h[None, :]) + 0.5, 0.0, 1.0)[..., None]
        lit = (scene.sun * 0.5 + scene.ambient) * col
        c = ((1 - mix) * lit + mix * scene.haze).astype(np.float32)
        # vertical texture so a ridge is not a flat cut-out
        tex = (0.85 + 0.3 * _n1(np.arange(width) * 0.7 + phase + 3000.0)).astype(np.float32)
        c = c[None, None, :] * tex[None, :, None]
        band = img[ra:rb]
        band += cover.astype(np.float32) * (c - band)
