"""Road markings that are not lane lines, painted into real labelled frames.

Why: the real training frames are TuSimple's highways, where almost nothing is painted between
the lane lines. Town and city roads carry arrows, crosswalks, stop lines, words, diamonds and
hatched islands: bright, straight-edged stripes on the asphalt that a lane model has never been
told are not lines. ``paint_marking`` paints one on a real frame; the frame's lane labels stay
as they are (a marking is not a lane, and the lines under a crosswalk still run on).

Geometry (flat ground; the lane straight over the few metres one marking covers): the labels'
ego lines give the lane's width in pixels per row, ``w(y) = a y + b``, which vanishes on the
horizon row ``y_h = -b / a``. For a lane ``W`` = 3.7 m wide the camera stands ``H = W / a``
above the road (``w / (y - y_h) = W / H``), and a point ``Z`` metres ahead lies on row
``y_h + f H / Z`` for a focal length ``f`` in pixels (drawn here around 0.85 of the frame
width, a 60-70 degree lens: it only sets how fast a marking shortens with distance). The
marking is drawn top-down on a canvas in metres (across, ahead) and mapped onto the frame by
the homography that takes the lane's rectangle on the canvas, at the marking's near and far
ends, to where the labelled lines are on those two rows. Pure numpy + OpenCV: it runs in the
sample-making worker processes.
"""

from typing import Optional

import cv2
import numpy as np

from lanecam.tools.train.barriers import _width_fit

__all__ = ["paint_marking", "MARKING_KINDS"]

MARKING_KINDS = ("arrow", "crosswalk", "stop_line", "text", "diamond", "hatch")
_KIND_P = (0.25, 0.2, 0.15, 0.15, 0.1, 0.15)
LANE_M = 3.7        # lane width, metres
PX_PER_M = 40.0     # canvas resolution
WORDS = ("BUS", "SLOW", "STOP", "ONLY", "TAXI", "KEEP CLEAR", "30", "50", "XING", "AHEAD",
         "BIKE", "SCHOOL")


def _x_at(line: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """x of a labelled line (``(N, 2)`` points sorted by row) on rows ``ys``, continued
    straight beyond its first and last labelled rows (a marking may lie past them)."""
    xs = np.interp(ys, line[:, 1], line[:, 0])
    for end, outside in ((line[:4], ys < line[0, 1]), (line[-4:], ys > line[-1, 1])):
        if outside.any() and len(end) >= 2 and end[-1, 1] > end[0, 1]:
            k, c = np.polyfit(end[:, 1], end[:, 0], 1)
            xs[outside] = k * ys[outside] + c
    return xs


def _paint_colour(frame: np.ndarray, lines, rng: np.random.Generator) -> np.ndarray:
    """BGR of the frame's own paint: the brightest pixel near each labelled point of the
    brighter ego line (labels sit a few pixels off the paint), their median, a little varied."""
    h, w = frame.shape[:2]
    best, colour = -1.0, None
    for line in lines:
        picks = []
        for x, y in line[:: max(1, len(line) // 12)]:
            xi, yi = int(round(x)), int(round(y))
            if not (0 <= yi < h and 5 <= xi < w - 5):
                continue
            patch = frame[yi, xi - 5:xi + 6].astype(np.float32)
            picks.append(patch[int(patch.sum(1).argmax())])
        if picks:
            c = np.median(np.array(picks), axis=0)
            if c.sum() > best:
                best, colour = c.sum(), c
    if colour is None:
        colour = np.full(3, 200.0)
    return np.clip(colour * rng.uniform(0.85, 1.05), 0, 255)


def _road_colour(frame: np.ndarray, left: np.ndarray, right: np.ndarray) -> Optional[np.ndarray]:
    """Median BGR of the middle half of the ego lane over the rows both lines are labelled on
    (None when they share none inside the frame): mostly asphalt, even with a car ahead."""
    h, w = frame.shape[:2]
    lo, hi = max(left[0, 1], right[0, 1]), min(left[-1, 1], right[-1, 1], h - 1)
    if hi - lo < 4:
        return None
    ys = np.arange(lo, hi, 2.0)
    xl, xr = np.interp(ys, left[:, 1], left[:, 0]), np.interp(ys, right[:, 1], right[:, 0])
    pixels = []
    for y, a, b in zip(ys.astype(int), xl, xr):
        a, b = int(max(0, a + 0.25 * (b - a))), int(min(w, b - 0.25 * (b - a)))
        if b > a:
            pixels.append(frame[y, a:b])
    if not pixels:
        return None
    return np.median(np.concatenate(pixels).astype(np.float32), axis=0)


def _poly(canvas, pts_m, x0: float, z_far: float) -> None:
    """Fill a polygon given in metres (across, ahead) on the canvas."""
    pts = np.array([((x - x0) * PX_PER_M, (z_far - z) * PX_PER_M) for x, z in pts_m])
    cv2.fillPoly(canvas, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)


def _arrow(canvas, rng, x0, z_near, z_far, cx) -> None:
    """A straight, left or right arrow centred across on ``cx`` (metres), pointing ahead."""
    shaft = rng.uniform(0.15, 0.3) / 2
    head_w = rng.uniform(0.6, 1.0) / 2
    head_l = rng.uniform(1.2, 2.0)
    z_head = z_far - head_l
    turn = rng.choice(["straight", "left", "right"], p=[0.5, 0.25, 0.25])
    if turn == "straight":
        _poly(canvas, [(cx - shaft, z_near), (cx + shaft, z_near), (cx + shaft, z_head),
                       (cx + head_w, z_head), (cx, z_far), (cx - head_w, z_head),
                       (cx - shaft, z_head)], x0, z_far)
        return
    s = -1.0 if turn == "left" else 1.0
    bend = z_near + 0.55 * (z_far - z_near)
    _poly(canvas, [(cx - shaft, z_near), (cx + shaft, z_near), (cx + shaft, bend + shaft),
                   (cx - shaft, bend + shaft)], x0, z_far)
    tip = cx + s * 1.1
    # the arm leans sideways and ahead, ending in a head pointing the way of the turn
    _poly(canvas, [(cx - shaft, bend - shaft), (cx + shaft, bend + shaft),
                   (tip - s * 0.35 + shaft, z_far - 0.4), (tip - s * 0.35 - shaft,
                                                             z_far - 0.4 - 2 * shaft)],
          x0, z_far)
    _poly(canvas, [(tip - s * 0.5, z_far - 0.4 - head_w), (tip, z_far - 0.2),
                   (tip - s * 0.6, z_far - 0.4 + head_w * 0.6)], x0, z_far)


def _text(canvas, rng, x0, z_near, z_far, cx) -> None:
    """A word, letters stretched long along the lane (as road words are) and upright for the
    driver: its top is the far end."""
    word = str(rng.choice(WORDS))
    scale, thick = 2.0, 5
    (tw, th), base = cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    small = np.zeros((th + base + 8, tw + 8), np.uint8)
    cv2.putText(small, word, (4, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick,
                cv2.LINE_AA)
    width = rng.uniform(0.45, 0.75) * LANE_M
    x_left = (cx - width / 2 - x0) * PX_PER_M
    box_w = max(2, int(width * PX_PER_M))
    box_h = max(2, int((z_far - z_near) * PX_PER_M))
    letters = cv2.resize(small, (box_w, box_h), interpolation=cv2.INTER_LINEAR)
    xa = int(round(x_left))
    xb, yb = min(canvas.shape[1], xa + box_w), min(canvas.shape[0], box_h)
    if xa < 0 or xb <= xa:
        return
    canvas[:yb, xa:xb] = np.maximum(canvas[:yb, xa:xb], letters[:yb, :xb - xa])


def _draw(kind, canvas, rng, x0, z_near, z_far, lane_cx) -> None:
    """Draw one marking of ``kind`` on the canvas (metres: x from the left ego line, z ahead)."""
    if kind == "arrow":
        _arrow(canvas, rng, x0, z_near, z_far, lane_cx)
    elif kind == "text":
        _text(canvas, rng, x0, z_near, z_far, lane_cx)
    elif kind == "diamond":
        half, t = rng.uniform(0.4, 0.6), rng.uniform(0.12, 0.2)
        zm = 0.5 * (z_near + z_far)
        outer = [(lane_cx, z_near), (lane_cx + half, zm), (lane_cx, z_far), (lane_cx - half, zm)]
        _poly(canvas, outer, x0, z_far)
        k = t / half * (z_far - z_near)    # the inner diamond, one stroke in from each side
        inner = [(lane_cx, z_near + k), (lane_cx + half - t, zm), (lane_cx, z_far - k),
                 (lane_cx - half + t, zm)]
        pts = np.array([((x - x0) * PX_PER_M, (z_far - z) * PX_PER_M) for x, z in inner])
        cv2.fillPoly(canvas, [np.round(pts * 16).astype(np.int32)], 0, cv2.LINE_AA, 4)
    elif kind == "stop_line":
        left = 0.0 if rng.random() < 0.6 else -LANE_M
        _poly(canvas, [(left, z_near), (LANE_M, z_near), (LANE_M, z_far), (left, z_far)],
              x0, z_far)
    elif kind == "crosswalk":
        bar, gap = rng.uniform(0.4, 0.6), rng.uniform(0.5, 0.8)
        x = x0 + rng.uniform(0, bar + gap)
        x_end = x0 + canvas.shape[1] / PX_PER_M
        while x < x_end:
            _poly(canvas, [(x, z_near), (x + bar, z_near), (x + bar, z_far), (x, z_far)],
                  x0, z_far)
            x += bar + gap
    elif kind == "hatch":
        # diagonal stripes filling one neighbouring lane (a hatched island at an exit or a
        # median), cut off at that lane's edges; its bounding lines are not painted
        side = -1.0 if rng.random() < 0.5 else 1.0
        a, b = (-0.9 * LANE_M, -0.1 * LANE_M) if side < 0 else (1.1 * LANE_M, 1.9 * LANE_M)
        stripe = np.zeros_like(canvas)
        width, step = rng.uniform(0.3, 0.5), rng.uniform(1.5, 3.0)
        slope = np.tan(np.radians(rng.uniform(30, 60))) * side
        z = z_near - 2 * LANE_M
        while z < z_far + 2 * LANE_M:
            _poly(stripe, [(a, z), (a, z + width), (b, z + width + slope * (b - a)),
                           (b, z + slope * (b - a))], x0, z_far)
            z += step
        region = np.zeros_like(canvas)
        _poly(region, [(a, z_near), (b, z_near), (b, z_far), (a, z_far)], x0, z_far)
        canvas[:] = np.maximum(canvas, np.minimum(stripe, region))


_LENGTH_M = {"arrow": (4.5, 7.5), "text": (2.5, 6.0), "diamond": (3.0, 6.0),
             "stop_line": (0.3, 0.6), "crosswalk": (2.5, 4.0), "hatch": (8.0, 20.0)}


def paint_marking(frame: np.ndarray, left: np.ndarray, right: np.ndarray,
                  rng: np.random.Generator, kind: Optional[str] = None) -> np.ndarray:
    """``frame`` (HxWx3 uint8) with one road marking painted on its road.

    ``left``, ``right``: the (N, 2) x, y points of the ego lane's labelled lines (L1, R1).
    ``kind``: one of ``MARKING_KINDS`` (drawn at random when None). Arrows, words and diamonds
    go in the ego lane or one of its neighbours, stop lines across the ego lane (or it and the
    left one), crosswalks across the whole road, hatching in a neighbouring lane. The frame
    comes back unchanged when the labels give no usable lane width or the marking would fall
    outside the frame; the input is never changed."""
    h, w = frame.shape[:2]
    left = np.asarray(left, np.float64)
    right = np.asarray(right, np.float64)
    if len(left) < 2 or len(right) < 2:
        return frame
    left = left[np.argsort(left[:, 1])]
    right = right[np.argsort(right[:, 1])]
    fit = _width_fit(left, right)
    if fit is None:
        return frame
    if kind is None:
        kind = MARKING_KINDS[int(rng.choice(len(MARKING_KINDS), p=_KIND_P))]
    a, b = fit
    y_h = -b / a
    if not np.isfinite(y_h) or y_h >= h - 20:
        return frame
    fh = rng.uniform(0.75, 0.95) * w * LANE_M / a      # f H, pixels x metres
    span = h - y_h
    y_near = rng.uniform(y_h + 0.3 * span, h + 0.15 * span)
    z_near = fh / (y_near - y_h)
    z_far = z_near + rng.uniform(*_LENGTH_M[kind])
    y_far = y_h + fh / z_far
    if y_far - y_h < 4:
        return frame
    lane_cx = LANE_M * (0.5 + (0 if rng.random() < 0.6 else rng.choice([-1, 1])))
    x0, x1 = -2.5 * LANE_M, 3.5 * LANE_M               # the canvas: the ego lane and two a side
    canvas = np.zeros((max(2, int(np.ceil((z_far - z_near) * PX_PER_M))),
                       int((x1 - x0) * PX_PER_M)), np.uint8)
    _draw(kind, canvas, rng, x0, z_near, z_far, lane_cx)
    if not canvas.any():
        return frame
    rows = np.array([y_near, y_far])
    xl, xr = _x_at(left, rows), _x_at(right, rows)
    ch = (z_far - z_near) * PX_PER_M
    src = np.float32([[(0 - x0) * PX_PER_M, ch], [(LANE_M - x0) * PX_PER_M, ch],
                      [(0 - x0) * PX_PER_M, 0], [(LANE_M - x0) * PX_PER_M, 0]])
    dst = np.float32([[xl[0], y_near], [xr[0], y_near], [xl[1], y_far], [xr[1], y_far]])
    m = cv2.getPerspectiveTransform(src, dst)
    # only the marking's bounding box on the frame is warped and blended
    corners = cv2.perspectiveTransform(np.float32([[[0, 0], [canvas.shape[1], 0],
                                                    [0, ch], [canvas.shape[1], ch]]]), m)[0]
    bx0, by0 = np.floor(corners.min(0)).astype(int) - 2
    bx1, by1 = np.ceil(corners.max(0)).astype(int) + 2
    bx0, by0, bx1, by1 = max(bx0, 0), max(by0, 0), min(bx1, w), min(by1, h)
    if bx1 - bx0 < 2 or by1 - by0 < 2:
        return frame
    shift = np.array([[1, 0, -bx0], [0, 1, -by0], [0, 0, 1]], np.float64)
    alpha = cv2.warpPerspective(canvas, shift @ m, (bx1 - bx0, by1 - by0),
                                flags=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    if alpha.max() <= 0:
        return frame
    # worn paint: patches where it is thin, at a few sizes; and a little softness
    bh, bw = alpha.shape
    wear = cv2.resize(rng.uniform(0, 1, (max(2, bh // 12), max(2, bw // 12))).astype(np.float32),
                      (bw, bh), interpolation=cv2.INTER_CUBIC)
    alpha *= rng.uniform(0.6, 1.0) * np.clip(1.2 - rng.uniform(0, 0.8) * wear, 0, 1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6)[..., None]
    colour = _paint_colour(frame, (left, right), rng)
    out = frame.copy()
    box = out[by0:by1, bx0:bx1].astype(np.float32)
    # paint goes on the road only: not over a car ahead, the existing lines or a kerb
    road = _road_colour(frame, left, right)
    if road is not None:
        on_road = (np.abs(box - road).max(-1) < 40).astype(np.uint8)
        on_road = cv2.morphologyEx(on_road, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        alpha *= cv2.GaussianBlur(on_road.astype(np.float32), (0, 0), 0.8)[..., None]
    out[by0:by1, bx0:bx1] = np.clip(box * (1 - alpha) + colour * alpha, 0, 255).astype(np.uint8)
    return out
