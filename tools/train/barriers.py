"""Roadside barriers drawn into real labelled frames where an outer line was painted out.

Why: the real training frames are multi-lane highways whose outer slots nearly always hold a
painted line, and a model trained on them (the ImageNet encoder most of all) reports a line
along any long straight edge one lane out: the base of a concrete median barrier, a guardrail,
a curb. ``augment.erase_line`` removes the outer line's paint and labels the slot absent;
``paste_barrier`` then stands a barrier where that line was, so the model sees the edge it
mistakes for a line with the label "no line here". The renderer draws barriers too, but on
rendered roads only; these sit on real asphalt under a real camera.

The barrier is placed in road geometry taken from the frame's own labels: its base follows the
erased line (moved -0.1 to 0.4 lane widths outward), and its height in pixels is a share of
the lane's width in pixels at each row, which is what perspective does to a wall of fixed
height. Pure numpy + OpenCV: it runs in the sample-making worker processes.
"""

from typing import Optional

import cv2
import numpy as np

__all__ = ["paste_barrier", "BARRIER_KINDS"]

# no curbs: a low bright band on the road is what a painted line looks like, and it must never
# be labelled "no line"
BARRIER_KINDS = ("wall", "guardrail")
_KIND_P = (0.65, 0.35)


def _width_fit(line: np.ndarray, neighbour: np.ndarray) -> Optional[np.ndarray]:
    """Lane width in pixels as a straight function of the row (a, b: width = a y + b), from
    the rows both lines share; None when they share less than a row or the width does not
    grow towards the bottom of the frame (labels that cross or are wrong)."""
    lo = max(line[0, 1], neighbour[0, 1])
    hi = min(line[-1, 1], neighbour[-1, 1])
    if hi - lo < 1.0:
        return None
    ys = np.linspace(lo, hi, 8)
    width = np.abs(np.interp(ys, line[:, 1], line[:, 0]) - np.interp(ys, neighbour[:, 1],
                                                                      neighbour[:, 0]))
    a, b = np.polyfit(ys, width, 1)
    if a <= 0:     # a lane narrows towards the camera only when the labels are wrong
        return None
    return np.array([a, b])


def _base_line(line: np.ndarray, h: int) -> np.ndarray:
    """The line's points continued straight to the bottom row (labels often stop short of it,
    a barrier does not), one point every 4 rows, top to bottom."""
    tail = line[-min(len(line), 4):]
    ys = np.arange(line[0, 1], h + 4, 4.0)
    xs = np.interp(ys, line[:, 1], line[:, 0])
    if len(tail) >= 2 and tail[-1, 1] > tail[0, 1]:
        k, c = np.polyfit(tail[:, 1], tail[:, 0], 1)
        below = ys > line[-1, 1]
        xs[below] = k * ys[below] + c
    return np.stack([xs, ys], axis=1)


def _band(base: np.ndarray, lane: np.ndarray, low: float, high: float, h: int,
          w: int) -> np.ndarray:
    """A uint8 mask of the upright band from ``low`` to ``high`` lane widths above ``base``."""
    bottom = np.stack([base[:, 0], base[:, 1] - low * lane], axis=1)
    top = np.stack([base[:, 0], base[:, 1] - high * lane], axis=1)
    mask = np.zeros((h, w), np.uint8)
    poly = np.concatenate([bottom, top[::-1]]).reshape(-1, 1, 2)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return mask


def _texture(h: int, w: int, rng: np.random.Generator, grey: float, tint: np.ndarray,
             noise: float) -> np.ndarray:
    """A float HxWx3 concrete or metal surface: one grey, a slight colour cast, blotches at a
    low frequency and grain at a high one."""
    blot = cv2.resize(rng.normal(0, 1, (max(2, h // 24), max(2, w // 24))).astype(np.float32),
                      (w, h), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, noise, (h, w)).astype(np.float32)
    surface = grey + 10.0 * blot + grain
    return surface[..., None] + tint[None, None, :]


def paste_barrier(frame: np.ndarray, line: np.ndarray, neighbour: np.ndarray, side: int,
                  rng: np.random.Generator, kind: Optional[str] = None) -> np.ndarray:
    """``frame`` (HxWx3 uint8) with a roadside barrier standing along ``line``.

    ``line``: the (N, 2) x, y points of the outer line that was painted out; ``neighbour``: the
    points of the ego line on the same side (for the lane's width in pixels); ``side``: -1 when
    ``line`` is left of the ego lane (L2), +1 when right (R2). ``kind``: "wall" (a concrete
    barrier) or "guardrail" (a rail on posts, the ground visible under it); drawn at random
    when None. The frame comes back unchanged when the labels give no usable lane width."""
    h, w = frame.shape[:2]
    line = np.asarray(line, np.float64)
    neighbour = np.asarray(neighbour, np.float64)
    line = line[np.argsort(line[:, 1])]
    neighbour = neighbour[np.argsort(neighbour[:, 1])]
    if len(line) < 2 or len(neighbour) < 2:
        return frame
    fit = _width_fit(line, neighbour)
    if fit is None:
        return frame
    if kind is None:
        kind = BARRIER_KINDS[int(rng.choice(len(BARRIER_KINDS), p=_KIND_P))]
    base = _base_line(line, h)
    lane = np.maximum(fit[0] * base[:, 1] + fit[1], 1.0)
    base[:, 0] += side * rng.uniform(-0.1, 0.4) * lane
    tint = np.array([-1.0, 0.0, 1.0]) * rng.uniform(0, 6)   # BGR: concrete is a little warm
    layers = []     # (mask, surface grey, grain) drawn in order
    if kind == "wall":
        # heights as shares of the lane's width (3.7 m): 0.15-0.35 is a 0.55-1.3 m wall
        layers.append((_band(base, lane, 0.0, rng.uniform(0.15, 0.35), h, w),
                       rng.uniform(80, 200), rng.uniform(2, 7)))
    else:
        # a W-beam rail 0.55-0.8 m up: two shiny ridges with a darker groove between, on
        # dark posts every few metres; the ground shows under it
        top = rng.uniform(0.15, 0.22)
        depth = rng.uniform(0.05, 0.08)
        posts = np.zeros((h, w), np.uint8)
        step = int(rng.integers(3, 7))
        for (x, y), lw in list(zip(base, lane))[::-step]:
            half = max(0.5, 0.0125 * lw)
            cv2.rectangle(posts, (int(round(x - half)), int(round(y - top * lw))),
                          (int(round(x + half)), int(round(y))), 255, -1)
        shine = rng.uniform(150, 230)
        layers.append((posts, rng.uniform(50, 110), 3.0))
        layers.append((_band(base, lane, top - depth, top, h, w), shine, 3.0))
        layers.append((_band(base, lane, top - 0.6 * depth, top - 0.4 * depth, h, w),
                       shine * rng.uniform(0.5, 0.75), 3.0))
    if not any(mask.any() for mask, _, _ in layers):
        return frame
    # everything below happens inside the barrier's bounding box (plus the blur's reach):
    # the sample workers make thousands of these
    union = np.zeros((h, w), np.uint8)
    for mask, _, _ in layers:
        union |= mask
    ys, xs = np.nonzero(union)
    pad = 8
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    out = frame.copy()
    box = out[y0:y1, x0:x1].astype(np.float32)
    bh, bw = box.shape[:2]
    if kind == "wall" and rng.random() < 0.6:
        # the dark strip where the wall meets the road: dirt, a drain, its own shadow
        shade = np.zeros((bh, bw), np.uint8)
        pts = np.round((base - [x0, y0]) * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(shade, [pts], False, 255, max(2, int(0.02 * lane.max())), cv2.LINE_AA, 4)
        dark = cv2.GaussianBlur(shade.astype(np.float32) / 255.0, (0, 0), 1.5)
        box *= (1.0 - rng.uniform(0.2, 0.5) * dark)[..., None]
    rows = np.arange(y0, y1, dtype=np.float32)[:, None, None]
    soft = rng.uniform(0.5, 1.2)
    for mask, grey, grain in layers:
        surface = _texture(bh, bw, rng, grey, tint, grain)
        # shading: a face lit unevenly from bottom to top (sun, dirt thrown up by tyres)
        surface *= 1.0 + rng.uniform(-0.15, 0.15) * (rows / h - 0.5)
        alpha = cv2.GaussianBlur(mask[y0:y1, x0:x1].astype(np.float32) / 255.0, (0, 0),
                                 soft)[..., None]
        box = box * (1.0 - alpha) + surface * alpha
    out[y0:y1, x0:x1] = np.clip(box, 0, 255).astype(np.uint8)
    return out
