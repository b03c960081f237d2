"""Measure the length of lane dashes in a bird's-eye view (sets metres per pixel along the road)."""

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ["dash_runs", "measure_dash_px"]


def dash_runs(top_view_bgr: np.ndarray, x: float, half_width: int = 20,
              min_fill: float = 0.12, max_fill: float = 0.6) -> np.ndarray:
    """Lengths (top-view rows) of the complete bright runs in the column band around ``x``.

    A row is "paint" when at least ``min_fill`` of the band is brighter than the band's own
    asphalt level (Otsu on the band's max(B, G, R)), so the measure adapts to shadows and
    exposure. Runs touching the top or bottom of the view are cut and left out; a band that is
    paint on more than ``max_fill`` of its rows is a solid line and gives no runs.
    """
    h, w = top_view_bgr.shape[:2]
    x0, x1 = max(0, int(round(x)) - half_width), min(w, int(round(x)) + half_width + 1)
    if x1 - x0 < 3:
        return np.zeros(0, int)
    # max(B, G, R): white and yellow paint are both bright in it, asphalt is not
    light = np.ascontiguousarray(top_view_bgr[:, x0:x1]).max(axis=2)
    thr, _ = cv2.threshold(light, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Otsu on a band of plain asphalt splits noise; demand real contrast with the median too.
    thr = max(thr, float(np.median(light)) + 40)
    on = (light > thr).mean(axis=1) >= min_fill
    # Close paint gaps of a few rows (worn paint, JPEG blocks) so one dash is one run.
    on = cv2.morphologyEx(on.astype(np.uint8)[:, None], cv2.MORPH_CLOSE,
                          np.ones((5, 1), np.uint8))[:, 0].astype(bool)
    if on.mean() > max_fill:
        return np.zeros(0, int)  # a solid line: no dashes to measure
    edges = np.diff(np.r_[0, on.astype(np.int8), 0])
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    # The first/last rows of a warped view are often interpolated with the black border.
    complete = (starts > 2) & (ends < h - 2)
    return (ends - starts)[complete]


def measure_dash_px(top_view_bgr: np.ndarray, xs: Sequence[float],
                    half_width: int = 20, min_run: int = 5) -> Optional[Tuple[float, int, int]]:
    """Dash length in top-view rows on the most dashed of the lines at columns ``xs``.

    The median of the complete runs at least 0.6 times the longest one.
    Returns (length_px, index into xs, number of dashes) or None when no line shows a complete
    dash of at least ``min_run`` rows (solid lines, worn paint, dashes cut by the view).
    """
    best = None
    for i, x in enumerate(xs):
        runs = dash_runs(top_view_bgr, x, half_width)
        runs = runs[runs >= min_run]
        # Worn or partly hidden dashes look shorter, never longer: keep the full-length ones.
        if len(runs):
            runs = runs[runs >= 0.6 * runs.max()]
        if len(runs) and (best is None or len(runs) > best[2]):
            best = (float(np.median(runs)), i, int(len(runs)))
    return best
