"""Lane / no-lane patches from the road renderer (``lanecam.pipeline.roadsim``), for the experiment.

A patch is a ``size x size`` crop lying wholly below the horizon. It is a *lane* patch when a
labelled lane line passes through its central ``core x core`` square *and is visibly painted
there*; a *no-lane* patch when no labelled line comes within ``margin`` pixels of it *and it
holds no thin bright structure*. Patches in between are ambiguous and never used. Each frame
gives the same number of each, so the classes are balanced.

Why the two visibility conditions: the renderer's labels run on through dash gaps and behind
vehicles (a "lane" patch may show plain asphalt), and it labels only the two nearest lines on
each side (a road's further lines would be painted "no-lane" patches). Visibility is measured
by the white top-hat of the luminance (5x5), relative to the local mean brightness (so that
night frames count too): a lane patch needs a mean of ``visible`` or more along its line
pixels in the core, a no-lane patch a maximum below ``clutter``.
"""

from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

from lanecam.pipeline.roadsim import random_frame

__all__ = ["PatchConfig", "make_patches", "cell_labels", "frame_tensor", "line_contrast",
           "frame_labels"]

_TOPHAT_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))


@dataclass(frozen=True)
class PatchConfig:
    """Patch sampling: frame size, patch size, central square, margin, patches per class per frame."""

    frame_w: int = 320
    frame_h: int = 180
    size: int = 24
    core: int = 8
    margin: int = 2
    per_frame: int = 6
    thickness: int = 1
    visible: float = 0.15
    clutter: float = 0.3


def _box_sums(mask: np.ndarray, box: int) -> np.ndarray:
    """Sum of ``mask`` over every box x box window: (H - box + 1, W - box + 1), top-left indexed."""
    ii = cv2.integral(mask.astype(np.uint8), sdepth=cv2.CV_32S)
    return ii[box:, box:] - ii[:-box, box:] - ii[box:, :-box] + ii[:-box, :-box]


def cell_labels(mask: np.ndarray, top: int, size: int, core: int, margin: int, stride: int):
    """Labels of the windows of a dense map: 1 lane, 0 no lane, -1 ambiguous.

    Windows start at rows ``top + i*stride`` and columns ``j*stride`` of ``mask`` (lane pixels
    > 0) and are ``size`` square; the rule is the patch rule of this module.
    """
    lane = (mask > 0).astype(np.uint8)
    off = (size - core) // 2
    core_sums = _box_sums(lane[top + off:, off:], core)
    near = _box_sums(np.pad(lane, margin)[top:, :], size + 2 * margin)
    rows = (mask.shape[0] - top - size) // stride + 1
    cols = (mask.shape[1] - size) // stride + 1
    ys, xs = np.arange(rows) * stride, np.arange(cols) * stride
    core_hit = core_sums[np.ix_(ys, xs)] > 0
    clear = near[np.ix_(ys, xs)] == 0
    return np.where(core_hit, 1, np.where(clear, 0, -1)).astype(np.int8)


def line_contrast(frame_bgr: np.ndarray) -> np.ndarray:
    """Relative white top-hat (5x5) of the luminance: how much a pixel stands out of its
    surroundings as a thin bright structure (float32, frame size)."""
    gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    tophat = cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, _TOPHAT_KERNEL)
    return tophat / (cv2.blur(gray, (9, 9)) + 8.0)


def _visible_labels(labels, mask, contrast, top: int, cfg) -> np.ndarray:
    """Demote invisible lane patches and cluttered no-lane patches to ambiguous (-1)."""
    s, off = cfg.size, (cfg.size - cfg.core) // 2
    line = (mask > 0).astype(np.float32)
    sub = contrast[top:]
    on_line = _box_sums_f(sub[off:, off:] * line[top + off:, off:], cfg.core)
    count = _box_sums_f(line[top + off:, off:], cfg.core)
    rows, cols = labels.shape
    mean = on_line[:rows, :cols] / np.maximum(count[:rows, :cols], 1.0)
    peak = cv2.dilate(sub, cv2.getStructuringElement(cv2.MORPH_RECT, (s, s)),
                      anchor=(0, 0))[:rows, :cols]
    out = labels.copy()
    out[(labels == 1) & (mean < cfg.visible)] = -1
    out[(labels == 0) & (peak >= cfg.clutter)] = -1
    return out


def _box_sums_f(values: np.ndarray, box: int) -> np.ndarray:
    ii = cv2.integral(values.astype(np.float32), sdepth=cv2.CV_64F)
    return ii[box:, box:] - ii[:-box, box:] - ii[box:, :-box] + ii[:-box, :-box]


def frame_tensor(frame_bgr: np.ndarray) -> np.ndarray:
    """A BGR uint8 frame as the classifiers' input: RGB float32 in [0, 1]."""
    return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def frame_labels(frame, gt, top: int, cfg: PatchConfig, stride: int) -> np.ndarray:
    """Labels (1 lane, 0 no lane, -1 ambiguous) of every ``cfg.size`` window whose top-left
    corner is (top + i*stride, j*stride), by the rules of this module."""
    h, w = frame.shape[:2]
    mask = gt.slot_mask(h, w, cfg.thickness)
    labels = cell_labels(mask, top, cfg.size, cfg.core, cfg.margin, 1)
    labels = _visible_labels(labels, mask, line_contrast(frame), top, cfg)
    return labels[::stride, ::stride]


def _sample(rng, ok: np.ndarray, n: int):
    ys, xs = np.nonzero(ok)
    if len(ys) == 0:
        return []
    pick = rng.choice(len(ys), size=min(n, len(ys)), replace=False)
    return list(zip(ys[pick], xs[pick]))


def make_patches(seeds, cfg: PatchConfig = PatchConfig()) -> Tuple[np.ndarray, np.ndarray]:
    """Balanced patches from the frames ``random_frame(seed)`` for ``seed in seeds``.

    Returns:
        x: float32 (N, size, size, 3) RGB in [0, 1]; y: int64 (N,) 1 lane, 0 no lane.
        Frames that lack one of the classes contribute nothing (balance is kept).
    """
    xs, ys = [], []
    s = cfg.size
    for seed in seeds:
        frame, gt = random_frame(int(seed), cfg.frame_w, cfg.frame_h)
        top = int(np.ceil(gt.horizon_y)) + 1
        if top + s > cfg.frame_h:
            continue
        labels = frame_labels(frame, gt, top, cfg, 1)
        rng = np.random.default_rng(10_000 + int(seed))
        pos, neg = _sample(rng, labels == 1, cfg.per_frame), _sample(rng, labels == 0, cfg.per_frame)
        n = min(len(pos), len(neg))
        if n == 0:
            continue
        image = frame_tensor(frame)
        for (r, c), lab in [(p, 1) for p in pos[:n]] + [(q, 0) for q in neg[:n]]:
            xs.append(image[top + r:top + r + s, c:c + s])
            ys.append(lab)
    return np.stack(xs), np.asarray(ys, np.int64)
