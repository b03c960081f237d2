"""The TuSimple lane benchmark's metric (the official evaluation's rules, in pure numpy).

Per frame, each ground-truth (GT) lane is matched to the predicted lane with the best point
accuracy (the share of rows where both agree within ``20 px / cos(angle)``, a row where both have
no point counting as agreement); a GT lane whose best accuracy is below 0.85 is a miss. Frames
that take longer than 200 ms or predict more than GT + 2 lanes score (0, 0, 1). With more than
4 GT lanes one miss is forgiven and the weakest GT lane is left out of the sum.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Dict, List, Sequence, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.safe_load import json_loads

__all__ = [
    "PIXEL_THRESHOLD", "POINT_THRESHOLD", "MAX_RUN_TIME_MS", "FrameScore", "TuSimpleScore",
    "lane_angle", "line_accuracy", "score_frame", "score_frames", "load_jsonl", "read_jsonl",
    "score_files", "image_path",
]

PIXEL_THRESHOLD = 20.0   # px, at angle 0
POINT_THRESHOLD = 0.85   # a GT lane is matched when its best point accuracy reaches this
MAX_RUN_TIME_MS = 200.0  # slower frames score (0, 0, 1)
_ABSENT = -100.0         # what negative x values become before comparing


class TuSimpleFormatError(InputError):
    """A prediction does not have one x per row (the benchmark's 'Format of lanes error')."""


__all__.append("TuSimpleFormatError")


@dataclass
class FrameScore:
    """The metric of one frame.

    Attributes:
        accuracy, fp, fn: the frame's accuracy, false-positive rate and false-negative rate.
        best: per GT lane, the best point accuracy over the predicted lanes.
        matched: per GT lane, whether it reached ``POINT_THRESHOLD``.
        rule: "" normally, "run_time" or "too_many_lanes" when a rule zeroed the frame.
    """

    accuracy: float
    fp: float
    fn: float
    best: List[float] = field(default_factory=list)
    matched: List[bool] = field(default_factory=list)
    rule: str = ""


@dataclass
class TuSimpleScore:
    """Overall metric (means over the GT frames) and the per-frame scores by ``raw_file``."""

    accuracy: float
    fp: float
    fn: float
    frames: Dict[str, FrameScore] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy, "fp": self.fp, "fn": self.fn, "frames": len(self.frames),
            "per_frame": {k: {"accuracy": v.accuracy, "fp": v.fp, "fn": v.fn, "rule": v.rule}
                          for k, v in self.frames.items()},
        }


def lane_angle(xs: np.ndarray, ys: np.ndarray) -> float:
    """atan(k) of the least-squares line x = k*y + b through the lane's valid points (0 if < 2)."""
    valid = xs >= 0
    if np.count_nonzero(valid) < 2:
        return 0.0
    y = ys[valid].astype(np.float64)
    x = xs[valid].astype(np.float64)
    yc = y - y.mean()
    denom = float(np.dot(yc, yc))
    if denom == 0.0:  # all points on one row: no defined slope, treat as vertical-ish line
        return 0.0
    k = float(np.dot(yc, x - x.mean())) / denom
    return math.atan(k)


def line_accuracy(pred: np.ndarray, gt: np.ndarray, threshold: float) -> float:
    """Share of rows where ``|pred - gt| < threshold`` after negative x become -100 in both."""
    p = np.where(pred >= 0, pred, _ABSENT)
    g = np.where(gt >= 0, gt, _ABSENT)
    return float(np.count_nonzero(np.abs(p - g) < threshold)) / len(g)


def score_frame(pred_lanes: Sequence[Sequence[float]], gt_lanes: Sequence[Sequence[float]],
                h_samples: Sequence[float], run_time_ms: float = 0.0,
                name: str = "frame") -> FrameScore:
    """Score one frame's predicted lanes against its GT lanes on rows ``h_samples``.

    Raises:
        TuSimpleFormatError: a predicted lane does not have exactly one x per row.
    """
    n_rows = len(h_samples)
    for i, lane in enumerate(pred_lanes):
        if len(lane) != n_rows:
            raise TuSimpleFormatError(
                f"{name}: predicted lane {i} has {len(lane)} x values, expected one per row "
                f"({n_rows} h_samples)")
    n_pred, n_gt = len(pred_lanes), len(gt_lanes)
    if run_time_ms > MAX_RUN_TIME_MS:
        return FrameScore(0.0, 0.0, 1.0, rule="run_time")
    if n_pred > n_gt + 2:
        return FrameScore(0.0, 0.0, 1.0, rule="too_many_lanes")

    ys = np.asarray(h_samples, dtype=np.float64)
    preds = [np.asarray(p, dtype=np.float64) for p in pred_lanes]
    best, matched = [], []
    for gt in gt_lanes:
        gt = np.asarray(gt, dtype=np.float64)
        threshold = PIXEL_THRESHOLD / math.cos(lane_angle(gt, ys))
        acc = max((line_accuracy(p, gt, threshold) for p in preds), default=0.0)
        best.append(acc)
        matched.append(acc >= POINT_THRESHOLD)
    fn = float(matched.count(False))
    fp = float(n_pred - matched.count(True))
    total = sum(best)
    if n_gt > 4:
        # the benchmark forgives one miss and drops the weakest lane in frames with > 4 lanes
        fn = max(fn - 1.0, 0.0)
        total -= min(best)
    denom = max(min(4, n_gt), 1)
    return FrameScore(
        accuracy=total / denom,
        fp=fp / n_pred if n_pred else 0.0,
        fn=fn / denom,
        best=best, matched=matched,
    )


def score_frames(predictions: Sequence[dict], ground_truth: Sequence[dict]) -> TuSimpleScore:
    """Overall metric: every GT frame needs exactly one prediction with the same ``raw_file``.

    Args:
        predictions: dicts with ``raw_file``, ``lanes`` and ``run_time`` (ms); an optional
            ``h_samples`` must equal the GT's.
        ground_truth: dicts with ``raw_file``, ``lanes`` and ``h_samples``.
    """
    gts = {}
    for g in ground_truth:
        _require_keys(g, ("raw_file", "lanes", "h_samples"), "ground truth")
        gts[g["raw_file"]] = g
    if not gts:
        raise InputError("ground truth: no frames to score")
    preds = {}
    for p in predictions:
        _require_keys(p, ("raw_file", "lanes", "run_time"), "prediction")
        name = p["raw_file"]
        if name in preds:
            raise InputError(f"predictions: raw_file {name!r} appears more than once")
        if name not in gts:
            raise InputError(f"predictions: raw_file {name!r} is not in the ground truth")
        preds[name] = p
    missing = sorted(set(gts) - set(preds))
    if missing:
        raise InputError(f"predictions: {len(missing)} ground-truth frame(s) have no prediction, "
                         f"e.g. {missing[0]!r}")
    frames = {}
    for name, g in gts.items():
        p = preds[name]
        if "h_samples" in p and list(p["h_samples"]) != list(g["h_samples"]):
            raise TuSimpleFormatError(f"{name}: predicted h_samples differ from the ground truth's")
        frames[name] = score_frame(p["lanes"], g["lanes"], g["h_samples"], float(p["run_time"]),
                                   name)
    n = len(frames)
    return TuSimpleScore(
        accuracy=sum(f.accuracy for f in frames.values()) / n,
        fp=sum(f.fp for f in frames.values()) / n,
        fn=sum(f.fn for f in frames.values()) / n,
        frames=frames,
    )


def _require_keys(d, keys, what):
    if not isinstance(d, dict):
        raise InputError(f"{what}: expected a JSON object per line, got {type(d).__name__}")
    absent = [k for k in keys if k not in d]
    if absent:
        raise InputError(f"{what} {d.get('raw_file', '?')!r}: missing key(s) {absent}")


def image_path(root, raw_file, where: str) -> Path:
    """``root / raw_file`` for a label's ``raw_file``, which must stay inside ``root``.

    A label file is data, possibly from elsewhere: an absolute ``raw_file`` or one climbing out
    with ``..`` (``../../../../etc/passwd``) would open any file on the machine. Checked on the
    text (links inside ``root`` are the user's own layout and are followed). ``InputError``
    naming ``where`` (the label file and line) otherwise.
    """
    text = raw_file if isinstance(raw_file, str) else None
    parts = PurePosixPath(text.replace("\\", "/")).parts if text else ()
    if not text or PurePosixPath(text).is_absolute() or PureWindowsPath(text).drive \
            or ".." in parts:
        raise InputError(f"{where}: raw_file {raw_file!r} is not a path inside {root}; "
                         f"expected an image path relative to it")
    return Path(root) / text


def load_jsonl(path, what: str = "JSON lines file", check=None) -> List[dict]:
    """Read a JSON-lines file (one object a line, blank lines skipped).

    ``check(row, where)``: called on every row as it is read, with ``where`` naming the file
    and line (``label_rows.label_row``, ``label_rows.prediction_row``)."""
    return [row for _, row in read_jsonl(path, what, check)]


def read_jsonl(path, what: str = "JSON lines file", check=None) -> List[Tuple[int, dict]]:
    """``load_jsonl`` with the line number of each row: (line, row) pairs."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} not found")
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 text file (byte {exc.start}); expected JSON "
                         "lines") from None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json_loads(line, f"{path}:{lineno}")
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object, got "
                             f"{type(obj).__name__}")
        if check is not None:
            check(obj, f"{path}: line {lineno}")
        rows.append((lineno, obj))
    return rows


def score_files(pred_path, gt_path) -> TuSimpleScore:
    """Score a TuSimple prediction file against a label file (both JSON lines), every row
    checked as it is read (``label_rows``): a bad row is one line naming its file and line."""
    from lanecam.tools.evaluate.label_rows import label_row, lanes_match_rows, prediction_row

    gts = read_jsonl(gt_path, "label file", label_row)
    preds = read_jsonl(pred_path, "prediction file", prediction_row)
    gt_at = {row["raw_file"]: (n, row) for n, row in gts}
    for n, row in preds:
        if row["raw_file"] in gt_at:
            m, gt = gt_at[row["raw_file"]]
            lanes_match_rows(row["lanes"], len(gt["h_samples"]), f"{pred_path}: line {n}",
                             f" of {gt_path}: line {m}")
    return score_frames([row for _, row in preds], [row for _, row in gts])
