"""Outer lines painted out of real labelled frames: does a model draw a line with no paint?

242 of the 245 TuSimple training frames show both outer lines (L2, R2), so real labels alone
teach "a line one lane out on each side", and a model draws one on a median barrier or a bare
road edge. Here each outer line of a labelled frame is inpainted away (OpenCV's Navier-Stokes
method: not the Telea method ``lanecam train --erase-outer`` trains with, so a model cannot pass
by knowing the training's artefacts) and two shares are measured per model:

- ``erased``: erased lines the model still reports at that place (lower is better);
- ``painted``: the same lines found in the original frames (higher is better: a model that
  stopped reporting outer lines at all would score low here).

A lane is "reported" when one of the model's lanes matches the label by the TuSimple rule (85 %
of the label's rows within 20 px, widened for the lane's angle).
"""

import math
from dataclasses import dataclass
from typing import Iterator, List

import numpy as np

__all__ = ["ErasedCase", "paint_out", "erased_cases", "reports_lane", "erased_line_shares"]


@dataclass
class ErasedCase:
    """One outer line of one frame: the frame with and without it, and its label row."""

    name: str               # raw_file:slot
    frame: np.ndarray       # BGR, as recorded
    erased: np.ndarray      # BGR, the line inpainted away
    xs: np.ndarray          # the line's x per h_sample (-2: no point)
    ys: np.ndarray          # h_samples


def paint_out(frame: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``frame`` with the line through ``points`` ((N, 2) x, y) inpainted away: a band that
    widens towards the bottom as paint does under perspective, plus a margin for labels a few
    pixels off the paint (sizes for 1280 px wide frames, scaled to ``frame``)."""
    import cv2

    h, w = frame.shape[:2]
    pts = np.asarray(points, np.float64)
    pts = pts[np.argsort(pts[:, 1])]
    top = pts[0, 1]
    mask = np.zeros((h, w), np.uint8)
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        width = (0.11 * (0.5 * (y0 + y1) - top) + 12) * (w / 1280.0)
        cv2.line(mask, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), 255,
                 max(2, int(round(width))))
    return cv2.inpaint(frame, mask, 9, cv2.INPAINT_NS)


def erased_cases(rows: List[dict], root) -> Iterator[ErasedCase]:
    """One case per outer line (slots L2, R2 as training assigns them) of TuSimple label
    ``rows`` whose ``raw_file`` paths are relative to ``root``."""
    import cv2

    from lanecam.tools.evaluate.tusimple import image_path
    from lanecam.tools.train.data import assign_slots

    for row in rows:
        frame = cv2.imread(str(image_path(root, row["raw_file"], "erased-line check")))
        if frame is None:
            continue
        h, w = frame.shape[:2]
        ys = np.asarray(row["h_samples"], np.float64)
        for slot, pts in assign_slots(row["lanes"], row["h_samples"], w, h):
            if slot not in (0, 3):
                continue
            xs = np.full(len(ys), -2.0)
            xs[np.searchsorted(ys, pts[:, 1])] = pts[:, 0]
            yield ErasedCase(f"{row['raw_file']}:{'L2' if slot == 0 else 'R2'}", frame,
                             paint_out(frame, pts), xs, ys)


def reports_lane(detector, frame: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> bool:
    """Whether one of ``detector``'s lanes on ``frame`` matches the label lane ``xs``."""
    from lanecam.pipeline.lanes.extract import tusimple_xs
    from lanecam.tools.evaluate.tusimple import (PIXEL_THRESHOLD, POINT_THRESHOLD,
                                                 lane_angle, line_accuracy)

    threshold = PIXEL_THRESHOLD / math.cos(lane_angle(xs, ys))
    result = detector(frame, 0)
    preds = [np.asarray(tusimple_xs(lane, ys, frame.shape[1]), np.float64)
             for lane in result.lanes]
    return max((line_accuracy(p, xs, threshold) for p in preds), default=0.0) >= POINT_THRESHOLD


def erased_line_shares(model, cases: List[ErasedCase]) -> List[float]:
    """``[erased, painted]`` shares for ``model`` (a path or name ``LaneDetector`` takes)."""
    from lanecam import LaneDetector

    if not cases:
        return [float("nan"), float("nan")]
    with LaneDetector(model=model, threads=1) as det:
        erased = [reports_lane(det, c.erased, c.xs, c.ys) for c in cases]
        painted = [reports_lane(det, c.frame, c.xs, c.ys) for c in cases]
    return [float(np.mean(erased)), float(np.mean(painted))]
