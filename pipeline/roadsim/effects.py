"""Camera and sensor effects on the rendered float image, ending in a BGR uint8 frame."""

import cv2
import numpy as np

from lanecam.pipeline.roadsim import textures as tx
from lanecam.pipeline.roadsim.lens import warp_frame
from lanecam.pipeline.roadsim.lights import bloom
from lanecam.pipeline.roadsim.objects import draw_hood
from lanecam.pipeline.roadsim.scene import Scene

__all__ = ["finish"]


def _tone_lut(gamma: float, contrast: float) -> np.ndarray:
    x = np.arange(256) / 255.0
    y = 0.5 + (x ** (1.0 / gamma) - 0.5) * contrast
    return np.clip(np.round(y * 255), 0, 255).astype(np.uint8)


def finish(img: np.ndarray, scene: Scene, cam, rng: np.random.Generator, out=None) -> np.ndarray:
    """Level float32 image -> frame: light colour, roll, hood, glare, blur, vignette, noise,
    tone curve, JPEG. ``img`` is consumed (modified). Returns ``out`` (allocated if None).

    Full-frame arithmetic goes through OpenCV on same-shaped arrays: numpy broadcasting over
    a 3-wide last axis is several times slower."""
    p = scene.fx_params
    height, width = img.shape[:2]
    scale = 255.0 * p["gain"] * p["wb"] * scene.tint
    cv2.multiply(img, (*scale.tolist(), 0.0), dst=img)
    if scene.lens_k > 0:
        img = warp_frame(img, cam, scene.lens_k)
    elif abs(cam.roll_rad) > 1e-4:
        img = cv2.warpAffine(img, cam.level_to_frame(), (width, height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)
    if scene.bloom > 0:
        # lamps and lights bloom; retro-reflecting paint (~2.5 x white at night) does not
        bloom(img, scene.bloom, 3.0 * 255.0 * p["gain"])
    draw_hood(img, scene, 255.0)
    if p["glare"] > 0:
        gx, gy = p["glare_xy"]
        hs, ws = max(2, height // 8), max(2, width // 8)
        yy, xx = np.mgrid[0:hs, 0:ws].astype(np.float32)
        r2 = ((xx / ws - gx) ** 2 + (yy / hs - gy) ** 2 * (hs / ws) ** 2 * 4)
        glow = cv2.resize(np.exp(-r2 / 0.08) * np.float32(255 * p["glare"]), (width, height))
        glow = cv2.multiply(cv2.cvtColor(glow, cv2.COLOR_GRAY2BGR), (0.85, 0.95, 1.0, 0.0))
        cv2.add(img, glow, dst=img)
    if p["blur"] > 0:
        img = cv2.GaussianBlur(img, (0, 0), p["blur"] * width / 1280.0 + 0.25)
    if p["motion"]:
        k = np.full((p["motion"], 1), 1.0 / p["motion"], np.float32)
        img = cv2.filter2D(img, -1, k)
    if p["vignette"] > 0:
        v = tx.vignette(height, width)
        cv2.multiply(img, cv2.addWeighted(v, -p["vignette"], v, 0.0, 1.0), dst=img)
    if p["noise"] > 0:
        g = tx.grain(height, width)
        oy, ox = rng.integers(0, 32, 2)
        cv2.scaleAdd(g[oy:oy + height, ox:ox + width], 255.0 * p["noise"], img, dst=img)
    if out is None:
        out = np.empty((height, width, 3), np.uint8)
    cv2.convertScaleAbs(img, out)   # saturates; the only negatives are noise around black
    key = ("tone", round(p["gamma"], 3), round(p["contrast"], 3))
    lut = scene.extra.get(key)
    if lut is None:
        lut = scene.extra[key] = _tone_lut(p["gamma"], p["contrast"])
    cv2.LUT(out, lut, dst=out)
    if p["jpeg"]:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(p["jpeg"])])
        if ok:
            out[:] = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return out
