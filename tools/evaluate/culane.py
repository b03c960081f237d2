"""The CULane lane metric: F1 of lanes matched at IoU > 0.5, each lane drawn 30 px wide.

CULane labels a frame ``NAME.jpg`` with ``NAME.lines.txt``: one lane a line, ``x y x y ...``
in image pixels. The published rule (Pan et al., "Spatial As Deep", AAAI 2018, and the
benchmark's evaluation tool, ``counter.cpp`` and ``lane_compare.cpp``) draws every
ground-truth and predicted lane as a 30 px wide line on the image, computes the IoU of every
pair, finds the one-to-one assignment with the largest total IoU (the Hungarian algorithm,
``assignment.py``), and counts an assigned pair with IoU strictly greater than 0.5 as a true
positive. Precision, recall and F1 are summed over all frames.

As in the official tool, every lane of a file counts, whatever it holds: a lane of fewer than
2 points has IoU 0 with everything (the tool's "lane size must be greater or equal to 2"), so
it is a missed lane (FN) in the ground truth and a false one (FP) in a prediction; points with
negative coordinates are kept (drawing clips them at the image border).

Differences, stated: the official tool joins 3 or more points with a cubic spline; this joins
them with straight segments (``cv2.polylines``). At CULane's point spacing (every 10-20 px of
height) the two masks differ by a few pixels at bends, far below what moves a 0.5 IoU. Blank
lines of a ``.lines.txt`` are skipped (the tool's ``read_lane_file`` would read one as a lane
of 0 points, a missed lane), and a line with an odd count of numbers is refused (the tool
drops the last number silently). More than ``MAX_LANES`` lanes in a frame are refused naming the
file: CULane labels at most 4, so more is a file in another format, not a busy road.

Beside F1 the score counts frames with a false *outer* line: a predicted L2 or R2 matched to
no ground-truth lane (the barrier / verge / vehicle-side failure), and, of the frames whose
labels have a line on each side of the camera, those where both of the nearest (the ego lane's
lines) are found: matched to a prediction at IoU > 0.5. The side of a labelled line is where
it meets the bottom row (its two lowest points extended), left or right of the image centre.
"""

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.tools.evaluate.assignment import max_weight_assignment
from lanecam.tools.evaluate.label_rows import coordinates

__all__ = ["CULaneScore", "read_lines_txt", "lane_iou_matrix", "match_lanes", "score_frame",
           "ego_lines", "list_culane", "LANE_WIDTH", "IOU_THRESHOLD", "MAX_LANES"]

LANE_WIDTH = 30
IOU_THRESHOLD = 0.5          # a true positive has IoU > this (strictly, as counter.cpp)
MAX_LANES = 8


def read_lines_txt(path) -> List[np.ndarray]:
    """Lanes of a CULane ``.lines.txt`` file: float (N, 2) x, y arrays, one per non-blank line,
    all kept as in the official tool (a lane of < 2 points, which can match nothing, and
    points with negative coordinates too)."""
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
        coordinates(values, f"{path}: line {n}", "lane")  # nan, inf, 1e300: a bad file
        lanes.append(np.asarray(values, np.float64).reshape(-1, 2))
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
    of ``size`` (width, height); 0 for a pair with a lane of fewer than 2 points (as the
    official tool: such a lane is not a line)."""
    pm = [_mask(p, size, width) if len(p) >= 2 else None for p in pred]
    gm = [_mask(g, size, width) if len(g) >= 2 else None for g in gt]
    iou = np.zeros((len(pm), len(gm)))
    for i, a in enumerate(pm):
        for j, b in enumerate(gm):
            if a is None or b is None:
                continue
            union = np.count_nonzero(a | b)
            iou[i, j] = np.count_nonzero(a & b) / union if union else 0.0
    return iou


def match_lanes(iou: np.ndarray) -> List[Tuple[int, int]]:
    """The one-to-one (pred, gt) assignment with the largest total IoU (exact; every lane of
    the smaller side is assigned, whatever its IoU: ``score_frame`` applies the threshold)."""
    return max_weight_assignment(iou)


@dataclass
class FrameMatch:
    """One frame's counts."""

    tp: int
    fp: int
    fn: int
    false_outer: bool
    ego_labelled: bool = False     # the labels have a line on each side of the camera
    ego_found: bool = False        # ... and both of the nearest were matched


def score_frame(pred: Sequence[np.ndarray], gt: Sequence[np.ndarray], size: Tuple[int, int],
                pred_slots: Optional[Sequence[str]] = None, width: int = LANE_WIDTH,
                threshold: float = IOU_THRESHOLD, where: str = "") -> FrameMatch:
    """Match one frame's predicted lanes to its ground truth (see the module docstring): a pair
    with IoU > ``threshold`` is a true positive. ``where`` (the ``.lines.txt`` file) names
    the frame in the error for more than ``MAX_LANES`` lanes."""
    if len(pred) > MAX_LANES or len(gt) > MAX_LANES:
        at = f"{where}: " if where else ""
        raise InputError(f"{at}CULane metric: at most {MAX_LANES} lanes a frame, got "
                         f"{len(pred)} predicted and {len(gt)} labelled")
    iou = lane_iou_matrix(pred, gt, size, width)
    pairs = [(i, j) for i, j in match_lanes(iou) if iou[i, j] > threshold]
    matched = {i for i, _ in pairs}
    tp = len(matched)
    slots = list(pred_slots) if pred_slots is not None else [""] * len(pred)
    outer = any(s in ("L2", "R2") and i not in matched for i, s in enumerate(slots))
    ego = ego_lines(gt, size)
    found_gt = {j for _, j in pairs}
    return FrameMatch(tp, len(pred) - tp, len(gt) - tp, outer, ego is not None,
                      ego is not None and set(ego) <= found_gt)


def ego_lines(gt: Sequence[np.ndarray], size: Tuple[int, int]) -> Optional[Tuple[int, int]]:
    """Indices of the labelled lines nearest the camera on its left and on its right (the ego
    lane's lines), or None when one side has none. A line's place is where its two lowest
    points, extended, meet the bottom row of the image (``size``: width, height)."""
    w, h = size
    left = right = None
    for j, pts in enumerate(gt):
        pts = np.asarray(pts, np.float64)
        if len(pts) < 2:
            continue
        (x0, y0), (x1, y1) = pts[np.argsort(pts[:, 1])][-2:]
        x = x1 if y1 == y0 else x1 + (x1 - x0) * (h - 1 - y1) / (y1 - y0)
        if x < w / 2:
            if left is None or x > left[1]:
                left = (j, x)
        elif right is None or x < right[1]:
            right = (j, x)
    return None if left is None or right is None else (left[0], right[0])


@dataclass
class CULaneScore:
    """Summed counts and F1 over frames."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    frames: int = 0
    false_outer_frames: int = 0
    ego_frames: int = 0            # frames labelled with a line on each side
    ego_found_frames: int = 0      # of them, frames with both ego lines found
    per_frame: Dict[str, FrameMatch] = field(default_factory=dict)

    def add(self, name: str, m: FrameMatch) -> None:
        self.tp, self.fp, self.fn = self.tp + m.tp, self.fp + m.fp, self.fn + m.fn
        self.frames += 1
        self.false_outer_frames += int(m.false_outer)
        self.ego_frames += int(m.ego_labelled)
        self.ego_found_frames += int(m.ego_found)
        self.per_frame[name] = m

    @property
    def ego_share(self) -> float:
        """Share of the frames labelled with both ego lines where both were found."""
        return self.ego_found_frames / self.ego_frames if self.ego_frames else 0.0

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
                "ego_frames": self.ego_frames, "ego_found_frames": self.ego_found_frames,
                "ego_found_share": round(self.ego_share, 4),
                "lane_width_px": LANE_WIDTH, "iou_threshold": IOU_THRESHOLD}


def list_culane(folder) -> List[Tuple[Path, Path]]:
    """(image, labels) pairs of a CULane-format folder, searched recursively: every ``*.jpg``
    (or ``.png``) with a ``.lines.txt`` beside it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: is a file, expected a CULane folder" if folder.exists()
                         else f"{folder}: CULane folder not found")
    pairs = []
    for img in sorted(itertools.chain(folder.rglob("*.jpg"), folder.rglob("*.png"))):
        labels = img.with_suffix(".lines.txt")
        if labels.is_file():
            pairs.append((img, labels))
    if not pairs:
        raise InputError(f"{folder}: expected CULane frames (NAME.jpg with NAME.lines.txt beside "
                         f"it); found none")
    return pairs
