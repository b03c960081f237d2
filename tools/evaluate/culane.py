"""The CULane lane metric: F1 of lanes matched at IoU >= 0.5, each lane drawn 30 px wide.

CULane labels a frame ``NAME.jpg`` with ``NAME.lines.txt``: one lane a line, ``x y x y ...``
in image pixels. The published rule (Pan et al., "Spatial As Deep", AAAI 2018, and the
benchmark's evaluation tool) draws every ground-truth and predicted lane as a 30 px wide line
on the image, computes the IoU of every pair, finds the one-to-one assignment with the largest
total IoU, and counts an assigned pair with IoU >= 0.5 as a true positive. Precision, recall
and F1 are summed over all frames.

One difference, stated: the official tool joins the points with a cubic spline; this joins
them with straight segments (``cv2.polylines``). At CULane's point spacing (every 10-20 px
of height) the two masks differ by a few pixels at bends, far below what moves a 0.5 IoU.

Beside F1 the score counts frames with a false *outer* line: a predicted L2 or R2 matched to
no ground-truth lane (the barrier / verge / vehicle-side failure).
"""

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["CULaneScore", "read_lines_txt", "lane_iou_matrix", "match_lanes", "score_frame",
           "list_culane", "LANE_WIDTH", "IOU_THRESHOLD"]

LANE_WIDTH = 30
IOU_THRESHOLD = 0.5


def read_lines_txt(path) -> List[np.ndarray]:
    """Lanes of a CULane ``.lines.txt`` file: float (N, 2) x, y arrays (lanes of < 2 points
    are dropped, as the official tool does)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read this CULane label file: {exc}") from None
    lanes = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise InputError(f"{path}: line {n}: expected numbers 'x y x y ...'") from None
        if len(values) % 2:
            raise InputError(f"{path}: line {n}: expected x y pairs, got {len(values)} numbers")
        pts = np.asarray(values, np.float64).reshape(-1, 2)
        pts = pts[(pts[:, 0] >= 0) & (pts[:, 1] >= 0)]
        if len(pts) >= 2:
            lanes.append(pts)
    return lanes


def _mask(points: np.ndarray, size: Tuple[int, int], width: int) -> np.ndarray:
    import cv2

    w, h = size
    m = np.zeros((h, w), np.uint8)
    pts = np.round(np.asarray(points, np.float64) * 4).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(m, [pts], False, 1, int(width), cv2.LINE_8, 2)
    return m.astype(bool)


def lane_iou_matrix(pred: Sequence[np.ndarray], gt: Sequence[np.ndarray], size: Tuple[int, int],
                    width: int = LANE_WIDTH) -> np.ndarray:
    """IoU of every (prediction, ground truth) pair of lanes drawn ``width`` px wide on an image
    of ``size`` (width, height)."""
    pm = [_mask(p, size, width) for p in pred]
    gm = [_mask(g, size, width) for g in gt]
    iou = np.zeros((len(pm), len(gm)))
    for i, a in enumerate(pm):
        for j, b in enumerate(gm):
            union = np.count_nonzero(a | b)
            iou[i, j] = np.count_nonzero(a & b) / union if union else 0.0
    return iou


def match_lanes(iou: np.ndarray) -> List[Tuple[int, int]]:
    """The one-to-one (pred, gt) assignment with the largest total IoU (exact: frames have a
    handful of lanes, so trying every assignment of the smaller side is cheap)."""
    n_pred, n_gt = iou.shape
    if not n_pred or not n_gt:
        return []
    best, best_pairs = -1.0, []
    if n_pred <= n_gt:
        for cols in itertools.permutations(range(n_gt), n_pred):
            total = sum(iou[i, c] for i, c in enumerate(cols))
            if total > best:
                best, best_pairs = total, list(enumerate(cols))
    else:
        for rows in itertools.permutations(range(n_pred), n_gt):
            total = sum(iou[r, j] for j, r in enumerate(rows))
            if total > best:
                best, best_pairs = total, [(r, j) for j, r in enumerate(rows)]
    return best_pairs


@dataclass
class FrameMatch:
    """One frame's counts."""

    tp: int
    fp: int
    fn: int
    false_outer: bool


def score_frame(pred: Sequence[np.ndarray], gt: Sequence[np.ndarray], size: Tuple[int, int],
                pred_slots: Optional[Sequence[str]] = None, width: int = LANE_WIDTH,
                threshold: float = IOU_THRESHOLD) -> FrameMatch:
    """Match one frame's predicted lanes to its ground truth (see the module docstring)."""
    if len(pred) > 8 or len(gt) > 8:
        raise InputError(f"CULane metric: at most 8 lanes a frame, got {len(pred)} predicted "
                         f"and {len(gt)} labelled")
    iou = lane_iou_matrix(pred, gt, size, width)
    matched = {i for i, j in match_lanes(iou) if iou[i, j] >= threshold}
    tp = len(matched)
    slots = list(pred_slots) if pred_slots is not None else [""] * len(pred)
    outer = any(s in ("L2", "R2") and i not in matched for i, s in enumerate(slots))
    return FrameMatch(tp, len(pred) - tp, len(gt) - tp, outer)


@dataclass
class CULaneScore:
    """Summed counts and F1 over frames."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    frames: int = 0
    false_outer_frames: int = 0
    per_frame: Dict[str, FrameMatch] = field(default_factory=dict)

    def add(self, name: str, m: FrameMatch) -> None:
        self.tp, self.fp, self.fn = self.tp + m.tp, self.fp + m.fp, self.fn + m.fn
        self.frames += 1
        self.false_outer_frames += int(m.false_outer)
        self.per_frame[name] = m

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {"metric": "culane", "f1": round(self.f1, 4),
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "frames": self.frames,
                "false_outer_frames": self.false_outer_frames,
                "false_outer_share": round(self.false_outer_frames / self.frames, 4)
                if self.frames else 0.0,
                "lane_width_px": LANE_WIDTH, "iou_threshold": IOU_THRESHOLD}


def list_culane(folder) -> List[Tuple[Path, Path]]:
    """(image, labels) pairs of a CULane-format folder, searched recursively: every ``*.jpg``
    (or ``.png``) with a ``.lines.txt`` beside it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: CULane folder not found")
    pairs = []
    for img in sorted(itertools.chain(folder.rglob("*.jpg"), folder.rglob("*.png"))):
        labels = img.with_suffix(".lines.txt")
        if labels.is_file():
            pairs.append((img, labels))
    if not pairs:
        raise InputError(f"{folder}: expected CULane frames (NAME.jpg with NAME.lines.txt beside "
                         f"it); found none")
    return pairs
