"""Lanes from model outputs: per-row centres of each slot, robust fits, frame pixels.

Two output kinds (see ``lanecam.engines.modelspec``):

- ``lane_slots``: a softmax over background + K slots. Per slot and model row, the x of the
  lane is the probability-weighted mean column over the pixels where the slot's probability
  exceeds ``threshold`` (near the row's peak, so that a stray blob elsewhere in the row does
  not drag it). Rows with too little mass are empty. The row centres are mapped to frame
  pixels through the spec's crop and resize, a degree-2 polynomial x = f(y) is fitted
  (weighted by mass, one outlier-rejection pass) and sampled over the observed rows.
- ``ego_area``: one channel, the drivable ego lane. Its largest thresholded region gives
  per-row left and right boundaries (lanes L1 and R1) and the ego polygon.
"""

from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes.fit import robust_polyfit
from lanecam.pipeline.lanes.result import Lane, LaneResult

__all__ = ["LaneExtractor", "tusimple_xs", "ego_polygon"]


class _Grid:
    """Everything that depends only on the model-output and frame sizes."""

    def __init__(self, out_h: int, out_w: int, frame_w: int, frame_h: int, spec: ModelSpec,
                 num_slots: int):
        top, bottom = spec.crop_rows(frame_h)
        self.out_h, self.out_w = out_h, out_w
        self.sx = frame_w / out_w                      # frame px per model column
        self.sy = (bottom - top) / out_h               # frame px per model row
        self.cols = np.arange(out_w, dtype=np.float32)
        # pixel centres: model (i + 0.5) * s in continuous coordinates, -0.5 back to pixel indices
        self.frame_y = top + (np.arange(out_h) + 0.5) * self.sy - 0.5
        self.y_min, self.y_max = float(top), float(min(bottom, frame_h) - 1)
        shape = (num_slots, out_h, out_w)
        self.mask = np.empty(shape, bool)
        self.near = np.empty(shape, bool)
        self.dist = np.empty(shape, np.float32)
        self.weight = np.empty(shape, np.float32)
        self.row_index = np.arange(out_h)

    def to_frame_x(self, col):
        return (np.asarray(col, np.float64) + 0.5) * self.sx - 0.5

    def to_model_col(self, x):
        return (np.asarray(x, np.float64) + 0.5) / self.sx - 0.5


class LaneExtractor:
    """Turns an engine's outputs into a ``LaneResult`` in frame pixels.

    Args:
        spec: the model card (output names, kind, layout, crop).
        frame_width, frame_height: size of the frames the lanes are reported in.
        threshold: per-pixel probability above which a pixel belongs to a slot (or the ego area);
            default the spec's ``lane_threshold``.
        exist_threshold: lanes whose existence probability is below this are dropped; default
            the spec's ``exist_threshold``.
        poly_degree: degree of the x = f(y) fit.
        min_rows: lanes seen on fewer model rows are dropped. 8 (of LaneFCN's 64): a few rows
            at the frame's edge are a fragment no driver can use, and most often a false outer
            line (a barrier's end, a car's side). Chosen on frames no model trained on, against
            4: on 400 renderer v2 and 400 v1 frames the false lanes fell (FP 0.102 -> 0.096 and
            0.068 -> 0.062) with the misses as good as unchanged (FN 0.136 -> 0.138 and
            0.088 -> 0.088), and on a real clip whose every L2 is false, frames with an L2
            fell from 5.9 % to 4.1 %.
        min_row_mass: a row whose summed slot probability (over the thresholded pixels) is
            below this is empty.
        window: half-width in model columns, around the row's peak, of the pixels that count.
            Default: 1/20 of the output width.
        min_outer_gap: an outer line (L2, R2) nearer its ego line than this share of the ego
            lane's width, over the rows all three cover, is dropped (0: keep all). No lane is
            that narrow: a line there is the ego line found twice, or a line crossing it. In
            the 245 TuSimple training labels the narrowest gap is 0.44 (1 % below 0.81);
            the renderer draws neighbouring lanes 0.7-1.45 ego widths wide.

    Everything that depends only on sizes (coordinate maps, work buffers) is made in
    ``__init__`` for an output the size of the model input, and made once more on the first
    call if the model's output has another size (LaneFCN's is half the input). Not thread-safe:
    one extractor per postprocess stage.
    """

    def __init__(self, spec: ModelSpec, frame_width: int, frame_height: int,
                 threshold: Optional[float] = None, exist_threshold: Optional[float] = None,
                 poly_degree: int = 2, min_rows: int = 8,
                 min_row_mass: float = 0.5, window: Optional[int] = None,
                 min_outer_gap: float = 0.4):
        for name, val in (("frame_width", frame_width), ("frame_height", frame_height)):
            if not isinstance(val, (int, np.integer)) or val < 8:
                raise InputError(f"lane extractor: {name}: expected an integer >= 8, got {val!r}")
        threshold = spec.lane_threshold if threshold is None else threshold
        exist_threshold = spec.exist_threshold if exist_threshold is None else exist_threshold
        for name, val in (("threshold", threshold), ("exist_threshold", exist_threshold)):
            if not 0.0 <= float(val) <= 1.0:
                raise InputError(f"lane extractor: {name}: expected a probability in [0, 1], "
                                 f"got {val!r}")
        if not 0.0 <= float(min_outer_gap) <= 1.0:     # NaN fails this too
            raise InputError(f"lane extractor: min_outer_gap: expected a share of the lane width "
                             f"in [0, 1], got {min_outer_gap!r}")
        if not isinstance(poly_degree, int) or not 1 <= poly_degree <= 3:
            raise InputError(f"lane extractor: poly_degree: expected 1, 2 or 3, got {poly_degree!r}")
        self.spec = spec
        self.frame_width, self.frame_height = int(frame_width), int(frame_height)
        self.threshold = float(threshold)
        self.exist_threshold = float(exist_threshold)
        self.poly_degree = poly_degree
        self.min_rows = max(int(min_rows), 2)
        self.min_row_mass = float(min_row_mass)
        self.window = window
        self.min_outer_gap = float(min_outer_gap)
        self.slots: Sequence[str] = (spec.slot_names if spec.output_kind == "lane_slots"
                                     else ("L1", "R1"))
        self._grid = self._make_grid(spec.input_height, spec.input_width)

    def _make_grid(self, out_h: int, out_w: int) -> _Grid:
        k = len(self.slots) if self.spec.output_kind == "lane_slots" else 1
        return _Grid(out_h, out_w, self.frame_width, self.frame_height, self.spec, k)

    # ---- entry point --------------------------------------------------------------------------
    def __call__(self, outputs: Dict[str, np.ndarray], frame_id: int) -> LaneResult:
        """Lanes of one frame from ``outputs`` (as returned by ``Engine.infer``; not modified)."""
        seg = self._seg_channels_first(outputs)
        if seg.shape[1:] != (self._grid.out_h, self._grid.out_w):
            self._grid = self._make_grid(seg.shape[1], seg.shape[2])
        if self.spec.output_kind == "lane_slots":
            lanes = self._lane_slots(seg[1:], self._exist(outputs))
            polygon = ego_polygon(lanes)
        else:
            lanes, polygon = self._ego_area(seg[0])
        return LaneResult(frame_id=frame_id, lanes=lanes, ego_polygon=polygon)

    def _seg_channels_first(self, outputs) -> np.ndarray:
        """The per-pixel output as a (C, H, W) view, batch dropped, whatever its layout."""
        name = self.spec.seg_output
        if name not in outputs:
            raise InputError(f"model output {name!r} (seg_output of the model spec) is missing; "
                             f"the engine returned {sorted(outputs)}")
        arr = np.asarray(outputs[name])
        if arr.ndim == 4:
            if arr.shape[0] != 1:
                raise InputError(f"model output {name!r}: expected batch 1, got shape {arr.shape}")
            arr = arr[0]
        if arr.ndim != 3:
            raise InputError(f"model output {name!r}: expected 4 dimensions, got shape {arr.shape}")
        if self.spec.output_layout == "NHWC":
            arr = arr.transpose(2, 0, 1)
        if arr.shape[0] != self.spec.num_classes:
            raise InputError(f"model output {name!r}: expected {self.spec.num_classes} channels "
                             f"({self.spec.output_layout}), got shape {np.shape(outputs[name])}")
        return arr

    def _exist(self, outputs) -> Optional[np.ndarray]:
        name = self.spec.exist_output
        if not name or name not in outputs:
            return None
        ex = np.asarray(outputs[name], np.float64).reshape(-1)
        if ex.size != len(self.slots):
            raise InputError(f"model output {name!r}: expected {len(self.slots)} existence "
                             f"values, got shape {np.shape(outputs[name])}")
        return ex

    # ---- lane_slots -----------------------------------------------------------------------------
    def _lane_slots(self, probs: np.ndarray, exist: Optional[np.ndarray]) -> List[Lane]:
        g = self._grid
        # only pixels near each row's peak count: a second blob in the row is another line's
        # leakage or noise, and would pull the weighted mean between the two
        peak = probs.argmax(axis=2)
        win = self.window if self.window is not None else max(2, g.out_w // 20)
        np.subtract(g.cols, peak[:, :, None], out=g.dist, dtype=np.float32, casting="unsafe")
        np.abs(g.dist, out=g.dist)
        np.less_equal(g.dist, win, out=g.near)
        np.greater(probs, self.threshold, out=g.mask)
        g.mask &= g.near
        np.multiply(probs, g.mask, out=g.weight, casting="unsafe")
        mass = g.weight.sum(axis=2)                   # (K, H)
        xsum = np.matmul(g.weight, g.cols)           # (K, H): sum of prob * column
        valid = mass >= self.min_row_mass
        centre = np.divide(xsum, mass, out=np.zeros_like(xsum), where=valid)

        lanes = []
        for k, slot in enumerate(self.slots):
            rows = g.row_index[valid[k]]
            if len(rows) >= self.min_rows:
                rows = rows[continuous_rows(rows, centre[k, rows])]
            if len(rows) < self.min_rows:
                continue
            if exist is not None and exist[k] < self.exist_threshold:
                continue
            lane = self._fit_lane(slot, rows, g.to_frame_x(centre[k, rows]), mass[k, rows],
                                  probs[k])
            if lane is None:
                continue
            lane.exists = float(exist[k]) if exist is not None else lane.confidence
            if lane.exists >= self.exist_threshold:
                lanes.append(lane)
        if self.min_outer_gap > 0:
            lanes = drop_crowded_outer(lanes, self.min_outer_gap)
        return lanes

    def _fit_lane(self, slot, rows, x_frame, weights, prob) -> Optional[Lane]:
        """Fit, sample over the observed rows, clip to the frame, score along the line."""
        g = self._grid
        y_frame = g.frame_y[rows]
        coeffs = robust_polyfit(y_frame, x_frame, weights, self.poly_degree,
                                min_tolerance=max(1.5 * g.sx, 3.0), min_points=self.min_rows)
        if coeffs is None:
            return None
        # the extent is that of the rows that agree with the fit: an outlier row (a blob on a
        # car or a tree) must not stretch the line past where it was seen
        tol = max(1.5 * g.sx, 3.0, 0.03 * self.frame_width)
        agree = np.abs(np.polyval(coeffs, y_frame) - x_frame) <= tol
        if np.count_nonzero(agree) < 2:
            return None
        rows = rows[agree]
        # a model row stands for sy frame rows: the observed extent reaches half a row further
        # each way (never beyond the rows the model saw)
        span = np.arange(rows[0], rows[-1] + 1)
        ys = g.frame_y[span].copy()
        ys[0] = max(ys[0] - 0.5 * g.sy, g.y_min)
        ys[-1] = min(ys[-1] + 0.5 * g.sy, g.y_max)
        xs = np.polyval(coeffs, ys)
        inside = (xs >= 0) & (xs <= self.frame_width - 1)
        if np.count_nonzero(inside) < 2:
            return None
        span, ys, xs = span[inside], ys[inside], xs[inside]
        confidence = self._mean_prob_along(prob, span, g.to_model_col(xs)) if prob is not None \
            else 1.0
        points = np.stack([xs, ys], axis=1).astype(np.float32)
        return Lane(slot=slot, points=points, confidence=confidence, exists=confidence,
                    coeffs=coeffs)

    def _mean_prob_along(self, prob, rows, cols) -> float:
        # the best of the 3 nearest columns: a thin line's fitted centre can fall between pixels
        c = np.clip(np.rint(cols).astype(np.int64), 1, self._grid.out_w - 2)
        r = rows[:, None]
        near = prob[r, c[:, None] + np.array([-1, 0, 1])]
        return float(near.max(axis=1).mean())

    # ---- ego_area -------------------------------------------------------------------------------
    def _ego_area(self, area: np.ndarray):
        g = self._grid
        mask = (area > self.threshold).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if n < 2:
            return [], None
        # the largest region is the ego lane; specks elsewhere would widen the boundaries
        biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        region = labels == biggest
        width = region.sum(axis=1)
        rows = g.row_index[width >= 2]
        if len(rows) < self.min_rows:
            return [], None
        first = region[rows].argmax(axis=1)
        last = g.out_w - 1 - region[rows, ::-1].argmax(axis=1)
        # the boundaries are pixel edges, not centres
        left = first * g.sx - 0.5
        right = (last + 1) * g.sx - 0.5
        confidence = float(np.clip(area[region].mean(), 0.0, 1.0))
        ones = np.ones(len(rows))
        lanes = []
        # where the area reaches the image border, that side's boundary is the border, not a line
        for slot, xs, free in (("L1", left, first > 0), ("R1", right, last < g.out_w - 1)):
            if np.count_nonzero(free) < self.min_rows:
                continue
            lane = self._fit_lane(slot, rows[free], xs[free], ones[free], None)
            if lane is not None and confidence >= self.exist_threshold:
                lane.confidence = lane.exists = confidence
                lanes.append(lane)
        ys = g.frame_y[rows]
        poly = np.concatenate([np.stack([left, ys], 1), np.stack([right, ys], 1)[::-1]])
        np.clip(poly[:, 0], 0, self.frame_width - 1, out=poly[:, 0])
        np.clip(poly[:, 1], 0, self.frame_height - 1, out=poly[:, 1])
        return lanes, np.rint(poly).astype(np.int32)


def continuous_rows(rows: np.ndarray, cols: np.ndarray, base_tol: float = 3.0,
                    gap_tol: float = 0.5, history: int = 4, good_share: float = 0.7) -> np.ndarray:
    """Which of a slot's rows belong to one continuous line: a boolean mask over ``rows``.

    A painted line is continuous in the image: walking along it, each row's centre is close to
    where the rows already accepted point (the direction of the last ``history`` of them). A row
    further than ``base_tol + gap_tol * gap`` columns from that prediction (``gap``: rows
    skipped) is a blob somewhere else (a car, a tree, another line's leakage) and is dropped.

    The walk starts at the lowest row, where lines are widest and clearest. When that keeps
    fewer than ``good_share`` of the rows, the lowest row was probably the stray blob itself
    (a speck on the bonnet edge under the line), so the walk is also tried from a few rows along
    the slot (going up and down from each) and the start that keeps the most rows wins.
    ``rows`` ascending (top to bottom), ``cols`` their centres in model columns.
    """
    n = len(rows)
    if n == 0:
        return np.zeros(0, bool)
    r_list = [float(r) for r in rows]   # plain floats: this runs per row, per slot, per frame
    c_list = [float(c) for c in cols]
    best = _walk_both_ways(r_list, c_list, n - 1, base_tol, gap_tol, history)
    if np.count_nonzero(best) >= good_share * n:
        return best
    for start in sorted({n // 4, n // 2, (3 * n) // 4, n - 2} - {n - 1}):
        if start < 0:
            continue
        keep = _walk_both_ways(r_list, c_list, start, base_tol, gap_tol, history)
        if np.count_nonzero(keep) > np.count_nonzero(best):
            best = keep
    return best


def _walk_both_ways(rows, cols, start, base_tol, gap_tol, history) -> np.ndarray:
    """The rows continuous with row index ``start``: walk up from it, then down from it."""
    keep = np.zeros(len(rows), bool)
    keep[start] = True
    up = _walk(rows, cols, range(start - 1, -1, -1), [start], keep, base_tol, gap_tol, history)
    # going down, the rows nearest the start give the direction: the start last (the newest)
    seed = up[:history][::-1]
    _walk(rows, cols, range(start + 1, len(rows)), seed, keep, base_tol, gap_tol, history)
    return keep


def _walk(rows, cols, order, accepted, keep, base_tol, gap_tol, history) -> list:
    """Accept, in ``order``, the rows that continue the ``accepted`` ones (indices, newest
    last); marks them in ``keep`` and returns ``accepted`` extended."""
    acc = list(accepted)
    for i in order:
        r, c = rows[i], cols[i]
        last = acc[-1]
        if len(acc) >= 2:
            j = acc[max(len(acc) - history, 0)]
            slope = (cols[last] - cols[j]) / (rows[last] - rows[j])
            pred = cols[last] + slope * (r - rows[last])
        else:
            pred = cols[last]
        if abs(c - pred) <= base_tol + gap_tol * abs(rows[last] - r):
            keep[i] = True
            acc.append(i)
    return acc


def drop_crowded_outer(lanes: List[Lane], min_gap: float, samples: int = 16) -> List[Lane]:
    """``lanes`` without the outer lines (L2, R2) that lie nearer their ego line (L1, R1) than
    ``min_gap`` ego-lane widths, or on the wrong side of it.

    Measured at the rows the outer line and both ego lines cover (the median over ``samples``
    rows there: on flat ground a row's widths scale together, so the share is the same at
    every row); a line with no such rows, or a frame without both ego lines, keeps its outer
    lines."""
    by_slot = {lane.slot: lane for lane in lanes}
    left, right = by_slot.get("L1"), by_slot.get("R1")
    if left is None or right is None:
        return lanes
    drop = set()
    for outer, ego, side in (("L2", left, -1.0), ("R2", right, 1.0)):
        lane = by_slot.get(outer)
        if lane is None or len(lane.points) < 2:
            continue
        y0 = max(float(ln.points[0, 1]) for ln in (lane, left, right))
        y1 = min(float(ln.points[-1, 1]) for ln in (lane, left, right))
        if y1 <= y0:
            continue
        ys = np.linspace(y0, y1, samples)
        width = right.x_at(ys) - left.x_at(ys)
        gap = side * (lane.x_at(ys) - ego.x_at(ys))
        ok = np.isfinite(width) & np.isfinite(gap) & (width > 0)
        if np.count_nonzero(ok) and np.median(gap[ok] / width[ok]) < min_gap:
            drop.add(outer)
    return [lane for lane in lanes if lane.slot not in drop] if drop else lanes


def ego_polygon(lanes: Sequence[Lane], left: str = "L1", right: str = "R1",
                samples: int = 24) -> Optional[np.ndarray]:
    """Polygon (int32 (M, 2), frame px) between the ``left`` and ``right`` lanes over the rows
    both cover, or None when either is missing or they do not overlap."""
    by_slot = {lane.slot: lane for lane in lanes}
    a, b = by_slot.get(left), by_slot.get(right)
    if a is None or b is None or len(a.points) < 2 or len(b.points) < 2:
        return None
    y0 = max(a.points[0, 1], b.points[0, 1])
    y1 = min(a.points[-1, 1], b.points[-1, 1])
    if y1 - y0 < 1.0:
        return None
    ys = np.linspace(y0, y1, samples)
    xa, xb = a.x_at(ys), b.x_at(ys)
    ok = np.isfinite(xa) & np.isfinite(xb)
    if np.count_nonzero(ok) < 2:
        return None
    ys, xa, xb = ys[ok], xa[ok], xb[ok]
    poly = np.concatenate([np.stack([xa, ys], 1), np.stack([xb, ys], 1)[::-1]])
    return np.rint(poly).astype(np.int32)


def tusimple_xs(lane: Lane, h_samples, frame_width: Optional[int] = None) -> List[int]:
    """The lane's x (rounded) on each row of ``h_samples``; -2 outside its vertical extent,
    left of the frame, or (when ``frame_width`` is given) right of it."""
    xs = lane.x_at(np.asarray(h_samples, np.float64))
    ok = np.isfinite(xs)
    ok[ok] = xs[ok] >= 0
    if frame_width is not None:
        ok[ok] = xs[ok] <= frame_width - 1
    return np.where(ok, np.rint(np.where(ok, xs, 0)), -2).astype(int).tolist()
