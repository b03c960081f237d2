"""Strong augmentation of real labelled frames: 245 frames from three drives must generalise to
other cameras, roads, light and weather.

Three kinds, all pure numpy + OpenCV (they run in the sample-making worker processes):

- ``camera_warp``: a random similarity transform of the whole frame about the bottom centre
  (roll, zoom that changes the field of view, small shifts), applied to the label points with
  the same matrix, so the label stays on the paint. Why: one camera height, pitch and lens in
  the training frames would otherwise be learned as "where lines are".
- ``erase_line``: one labelled line painted out of the frame (inpainted from the road around
  it), its slot then labelled absent. Why: 242 of the 245 training frames have both outer lines
  (L2 and R2), so real frames alone teach "there are always four lines", and a model draws an
  L2 on a median barrier or a bare road edge. A frame with the outer line erased shows that
  edge, curb or barrier without its paint, labelled "no line here".
- ``weather``: looks the real frames never have: JPEG blocking, cast shadows, rain (streaks,
  haze, blur), motion blur, a gamma curve, and night (``data.night_transfer``). Applied to the
  model-size image; the label is unchanged because none of them moves a line.
"""

from typing import List, Tuple

import cv2
import numpy as np

__all__ = ["WarpRange", "camera_warp", "warp_points", "erase_line", "weather"]


class WarpRange:
    """Bounds of ``camera_warp``: roll in degrees, zoom factor, shifts as frame fractions."""

    roll_deg = 5.0
    zoom = (0.9, 1.3)          # > 1 zooms in: a narrower field of view, as a longer lens
    shift_x = 0.06
    shift_y = 0.05


def camera_warp(frame: np.ndarray, rng: np.random.Generator,
                bounds: type = WarpRange) -> Tuple[np.ndarray, np.ndarray]:
    """A randomly rolled, zoomed and shifted copy of ``frame`` (any HxWx3) and its 2x3 matrix.

    The transform is a similarity about the bottom centre (where the camera's own lane is), so
    a zoom changes the field of view without moving the ego lane sideways. Border pixels are
    replicated rather than black: a black wedge is a feature no real camera has."""
    h, w = frame.shape[:2]
    angle = rng.uniform(-bounds.roll_deg, bounds.roll_deg)
    scale = rng.uniform(*bounds.zoom)
    m = cv2.getRotationMatrix2D((w / 2.0, float(h)), angle, scale)
    m[0, 2] += rng.uniform(-bounds.shift_x, bounds.shift_x) * w
    m[1, 2] += rng.uniform(-bounds.shift_y, bounds.shift_y) * h
    warped = cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    return warped, m


def warp_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(N, 2) x, y points moved by the 2x3 matrix ``m`` of ``camera_warp``."""
    pts = np.asarray(points, np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def erase_line(frame: np.ndarray, points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``frame`` (HxWx3) with the painted line along ``points`` ((N, 2) x, y, top to bottom
    in any order) inpainted away.

    The painted-out band widens towards the bottom of the frame as the paint does under
    perspective (a line about 0.065 x its distance below the topmost label point, measured
    on TuSimple's 1280x720 frames), with room for labels that sit a few pixels off the paint.
    Inpainting runs at half resolution (the band is smooth road surface; detail there would be
    a new line) and only the band is pasted back."""
    h, w = frame.shape[:2]
    pts = np.asarray(points, np.float64)
    pts = pts[np.argsort(pts[:, 1])]
    if len(pts) < 2:
        return frame
    top = pts[0, 1]
    mask = np.zeros((h, w), np.uint8)
    grow = rng.uniform(1.4, 1.8)
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        width = grow * 0.065 * (0.5 * (y0 + y1) - top) * (h / 720.0) + 10.0 * (w / 1280.0)
        cv2.line(mask, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), 255,
                 max(2, int(round(width))), cv2.LINE_8)
    small = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask, (w // 2, h // 2), interpolation=cv2.INTER_NEAREST)
    # a pixel more all round, and the pasted band a little wider than the mask: the paint's
    # anti-aliased rim must not survive as a faint line
    small_mask = cv2.dilate(small_mask, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_mask, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    band = cv2.dilate(mask, np.ones((5, 5), np.uint8)) > 0
    out = frame.copy()
    out[band] = filled[band]
    return out


def _shadows(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark soft-edged polygons across the road: trees, bridges, trucks."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        n = int(rng.integers(3, 6))
        cx, cy = rng.uniform(0, w), rng.uniform(0.2 * h, h)
        pts = np.stack([cx + rng.uniform(-0.4, 0.4, n) * w,
                        cy + rng.uniform(-0.5, 0.5, n) * h], axis=1).astype(np.int32)
        cv2.fillPoly(mask, [pts], float(rng.uniform(0.35, 0.75)))
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(1.0, 4.0))
    return img * (1.0 - mask[..., None])


def _rain(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Haze (lower contrast towards grey), thin bright streaks and a little blur."""
    h, w = img.shape[:2]
    grey = float(img.mean())
    img = img * rng.uniform(0.6, 0.85) + grey * rng.uniform(0.2, 0.4)
    streaks = np.zeros((h, w), np.float32)
    n = int(rng.integers(40, 160))
    xs, ys = rng.uniform(0, w, n), rng.uniform(0, h, n)
    length = rng.uniform(4, 12)
    slant = rng.uniform(-0.3, 0.3)
    for x, y in zip(xs, ys):
        cv2.line(streaks, (int(x), int(y)), (int(x + slant * length), int(y + length)),
                 float(rng.uniform(20, 60)), 1)
    img = img + cv2.GaussianBlur(streaks, (0, 0), 0.6)[..., None]
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.2))


def _motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(3, 8))
    kernel = np.zeros((k, k), np.float32)
    if rng.random() < 0.5:
        kernel[k // 2, :] = 1.0 / k     # sideways (a turn, a shake)
    else:
        kernel[:, k // 2] = 1.0 / k     # vertical (a bump)
    return cv2.filter2D(img, -1, kernel)


def _jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    q = int(rng.integers(15, 70))
    ok, buf = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8),
                           [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).astype(np.float32) if ok else img


def weather(image: np.ndarray, rng: np.random.Generator, night: float = 0.15) -> np.ndarray:
    """``image`` (RGB uint8, the model input) with some of: night, shadows, rain, gamma,
    motion blur, JPEG blocking. Each is drawn on its own; most samples get one or two."""
    from lanecam.tools.train.data import night_transfer

    if rng.random() < night:
        image = night_transfer(image, rng)
    img = image.astype(np.float32)
    steps: List = []
    if rng.random() < 0.3:
        steps.append(_shadows)
    if rng.random() < 0.12:
        steps.append(_rain)
    if rng.random() < 0.1:
        steps.append(_motion_blur)
    for step in steps:
        img = step(img, rng)
    if rng.random() < 0.3:      # exposure curve: over- and under-exposed cameras
        g = rng.uniform(0.6, 1.6)
        img = 255.0 * (np.clip(img, 0, 255) / 255.0) ** g
    if rng.random() < 0.3:
        img = _jpeg(img, rng)
    return np.clip(img, 0, 255).astype(np.uint8)
