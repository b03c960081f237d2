"""Labelled frames seen as another camera would show them: is a model tied to one aspect?

Every real training frame comes from one camera (TuSimple's 1280x720) and the renderer draws
with square pixels, so a model may learn how steeply lanes lean in that one view. Frames of
other cameras reach the model stretched: the runtime crops the rows below the horizon and
resizes them to the model input, so a 1640x590 CULane frame arrives stretched 1.6x vertically
against a 1280x720 one, a 4:3 frame about 1.3x horizontally.

Here each labelled frame is stretched by a fixed affine map (``GEOMETRIES``) about a point at
the horizon's height, so the far road stays in the crop and the near rows (vertical stretch) or
the sides (horizontal stretch) leave the frame, as with a camera of that aspect. The labels
move with it, and the frames are scored by the TuSimple rule. What it measured, and that
training on stretched views (``lanecam train --aspect-jitter``) did not raise it: docs/model.md,
"Other cameras' aspect ratios".
"""

from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

__all__ = ["GEOMETRIES", "stretch_matrix", "stretch_frame", "stretch_label", "score_views",
           "geometry_scores"]

# name -> (horizontal scale, vertical scale); both about (width / 2, HORIZON * height)
GEOMETRIES: Dict[str, Tuple[float, float]] = {
    "vertical 1.35x": (1.0, 1.35),
    "vertical 1.6x (a CULane frame)": (1.0, 1.6),
    "horizontal 1.35x (a 4:3 frame)": (1.35, 1.0),
}
HORIZON = 0.39      # TuSimple's vanishing point is near row 280 of 720


def stretch_matrix(width: int, height: int, sx: float, sy: float) -> np.ndarray:
    """2x3 affine map scaling by ``sx``, ``sy`` about (width / 2, HORIZON * height)."""
    cx, cy = width / 2.0, HORIZON * height
    return np.array([[sx, 0.0, cx - sx * cx], [0.0, sy, cy - sy * cy]], np.float64)


def stretch_frame(frame: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``frame`` mapped by ``m`` (same size; scales >= 1 leave no border to fill)."""
    h, w = frame.shape[:2]
    return cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def stretch_label(lanes: Sequence[Sequence[float]], h_samples: Sequence[int], m: np.ndarray,
                  width: int) -> List[List[int]]:
    """TuSimple label lanes mapped by ``m`` and sampled again on ``h_samples`` (-2 where a
    lane has no point); lanes left with fewer than two points are dropped."""
    ys = np.asarray(h_samples, np.float64)
    out = []
    for lane in lanes:
        xs = np.asarray(lane, np.float64)
        ok = xs >= 0
        if ok.sum() < 2:
            continue
        x2 = xs[ok] * m[0, 0] + m[0, 2]
        y2 = ys[ok] * m[1, 1] + m[1, 2]     # increasing: the scale is positive
        new = np.interp(ys, y2, x2)
        keep = (ys >= y2[0]) & (ys <= y2[-1]) & (new >= 0) & (new <= width - 1)
        if keep.sum() >= 2:
            out.append([int(round(v)) if k else -2 for v, k in zip(new, keep)])
    return out


def score_views(detector, views) -> List[float]:
    """TuSimple [accuracy, FP, FN] of ``detector`` on altered frames and their moved labels.

    ``views``: (raw_file, frame, label lanes, label rows, frame rows) per frame; the lanes are
    read off ``frame`` at ``frame rows`` and scored as the label's ``label rows`` (the same
    rows, shifted when the frame was cut)."""
    from lanecam.tools.evaluate.predict import tusimple_lanes
    from lanecam.tools.evaluate.tusimple import score_frames

    preds, truth = [], []
    for i, (name, frame, lanes, label_rows, frame_rows) in enumerate(views):
        result = detector(frame, i)
        preds.append({"raw_file": name, "run_time": 0.0,
                      "lanes": tusimple_lanes(result, frame_rows, frame.shape[1])})
        truth.append({"raw_file": name, "lanes": lanes, "h_samples": label_rows})
    s = score_frames(preds, truth)
    return [s.accuracy, s.fp, s.fn]


def _stretched(frames, sx: float, sy: float):
    """``score_views`` items of (row, frame) pairs stretched by ``sx``, ``sy``."""
    for row, frame in frames:
        h, w = frame.shape[:2]
        m = stretch_matrix(w, h, sx, sy)
        ys = row["h_samples"]
        yield (row["raw_file"], stretch_frame(frame, m), stretch_label(row["lanes"], ys, m, w),
               ys, ys)


def geometry_scores(model, rows: Sequence[dict], root) -> Dict[str, List[float]]:
    """TuSimple [accuracy, FP, FN] of ``model`` on ``rows`` (label rows under ``root``) for
    each of ``GEOMETRIES``, plus ``mean acc - 0.5 FP`` over them (the one number to compare)."""
    from pathlib import Path

    from lanecam import LaneDetector
    from lanecam.tools.evaluate.predict import read_image

    root = Path(root)
    frames = [(row, read_image(root / row["raw_file"])) for row in rows]
    out, objective = {}, []
    with LaneDetector(model=model, threads=1) as det:
        for name, (sx, sy) in GEOMETRIES.items():
            out[name] = score_views(det, _stretched(frames, sx, sy))
            objective.append(out[name][0] - 0.5 * out[name][1])
    out["mean acc - 0.5 FP"] = [float(np.mean(objective))]
    return out
