"""Ground truth of random frames: polylines, slot masks, TuSimple rows, slot order."""

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.roadsim import SLOTS, LaneLineGT, random_frame

from .helpers import densify, frames, x_at

SEEDS = range(12)


@pytest.fixture(scope="module")
def samples():
    return frames(SEEDS)


def test_same_seed_same_frame_and_labels():
    a_frame, a_gt = random_frame(123, width=200, height=120)
    b_frame, b_gt = random_frame(123, width=200, height=120)
    assert a_frame.dtype == np.uint8 and a_frame.shape == (120, 200, 3)
    assert np.array_equal(a_frame, b_frame)
    assert [ln.slot for ln in a_gt.lines] == [ln.slot for ln in b_gt.lines]
    for la, lb in zip(a_gt.lines, b_gt.lines):
        assert np.array_equal(la.points, lb.points)
    c_frame, _ = random_frame(124, width=200, height=120)
    assert not np.array_equal(a_frame, c_frame)


def test_lines_are_well_formed(samples):
    for seed, frame, gt in samples:
        h, w = frame.shape[:2]
        assert gt.exists.tolist() == [s in {ln.slot for ln in gt.lines} for s in SLOTS]
        assert len({ln.slot for ln in gt.lines}) == len(gt.lines), seed
        for ln in gt.lines:
            assert isinstance(ln, LaneLineGT) and ln.slot in SLOTS
            assert ln.color in ("white", "yellow") and ln.style in ("solid", "dashed", "double")
            p = ln.points
            assert p.dtype == np.float32 and p.ndim == 2 and p.shape[1] == 2 and len(p) >= 2
            assert np.all(np.diff(p[:, 1]) > 0), (seed, ln.slot)
            assert p[:, 0].min() >= 0 and p[:, 0].max() <= w - 1
            assert p[:, 1].min() >= 0 and p[:, 1].max() <= h - 1
            assert p[0, 1] >= gt.horizon_y - 0.1 * h, "lines end near or below the horizon"


def test_polylines_lie_on_their_slot_in_the_mask(samples):
    checked = 0
    for seed, frame, gt in samples:
        h, w = frame.shape[:2]
        mask = gt.slot_mask(h, w, thickness=3)
        for ln in gt.lines:
            pts = densify(ln.points.astype(np.float64))
            pts = pts[pts[:, 1] > gt.horizon_y + 0.1 * h]   # near the horizon lines merge
            if not len(pts):
                continue
            xi = np.clip(np.round(pts[:, 0]).astype(int), 0, w - 1)
            yi = np.clip(np.round(pts[:, 1]).astype(int), 0, h - 1)
            want = SLOTS.index(ln.slot) + 1
            hit = np.zeros(len(pts), bool)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    hit |= mask[np.clip(yi + dy, 0, h - 1), np.clip(xi + dx, 0, w - 1)] == want
            assert hit.mean() >= 0.97, (seed, ln.slot, hit.mean())
            checked += 1
    assert checked >= 20


def test_slots_are_ordered_left_to_right(samples):
    for seed, frame, gt in samples:
        if len(gt.lines) < 2:
            continue
        y = min(float(ln.points[-1, 1]) for ln in gt.lines)   # lowest row all lines reach
        y = max(y, max(float(ln.points[0, 1]) for ln in gt.lines))
        xs = [x_at(ln.points, y) for ln in gt.lines]
        xs = [x for x in xs if np.isfinite(x)]
        assert xs == sorted(xs), (seed, [ln.slot for ln in gt.lines], xs)


def test_ego_lines_each_side_of_the_camera(samples):
    for seed, frame, gt in samples:
        lines = {ln.slot: ln for ln in gt.lines}
        for slot, sign in (("L1", -1), ("L2", -1), ("R1", 1), ("R2", 1)):
            if slot in lines:
                assert np.sign(lines[slot].offset_m) in (sign, 0), (seed, slot)


def test_tusimple_lanes_follow_the_polylines(samples):
    rows = list(range(0, 180, 5))
    for seed, frame, gt in samples:
        lanes = gt.tusimple_lanes(rows)
        assert len(lanes) == len(gt.lines)
        for lane, ln in zip(lanes, gt.lines):
            assert len(lane) == len(rows)
            for y, x in zip(rows, lane):
                want = x_at(ln.points, y)
                if x == -2:
                    assert np.isnan(want) or not 0 <= want <= 319, (seed, y)
                else:
                    assert abs(x - want) <= 0.5 + 1e-6, (seed, ln.slot, y, x, want)
            assert sum(x != -2 for x in lane) >= 1


def test_masks_at_other_sizes_and_crops(samples):
    for seed, frame, gt in samples[:6]:
        h, w = frame.shape[:2]
        for (mh, mw, top, bottom) in ((90, 160, 0.0, 0.0), (64, 128, 0.4, 0.0),
                                      (100, 100, 0.3, 0.1)):
            mask = gt.slot_mask(mh, mw, thickness=2, crop_top=top, crop_bottom=bottom)
            assert mask.shape == (mh, mw) and mask.dtype == np.uint8
            assert set(np.unique(mask)) <= {0, 1, 2, 3, 4}
            y0, y1 = top * h, (1 - bottom) * h
            for ln in gt.lines:
                pts = densify(ln.points.astype(np.float64), 2.0)
                pts = pts[(pts[:, 1] >= max(y0, gt.horizon_y + 0.15 * h)) & (pts[:, 1] < y1)]
                if not len(pts):
                    continue
                mx = (pts[:, 0] + 0.5) * mw / w - 0.5
                my = (pts[:, 1] - y0 + 0.5) * mh / (y1 - y0) - 0.5
                want = SLOTS.index(ln.slot) + 1
                hit = np.zeros(len(pts), bool)
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        yy = np.clip(np.round(my).astype(int) + dy, 0, mh - 1)
                        xx = np.clip(np.round(mx).astype(int) + dx, 0, mw - 1)
                        hit |= mask[yy, xx] == want
                assert hit.mean() >= 0.9, (seed, mh, mw, top, ln.slot, hit.mean())
            # nothing above the crop: a crop that keeps only the sky has no lines
        # (a no-road frame may have its horizon below the image: then all of it is "sky")
        keep = min(0.99, max(0.01, gt.horizon_y / h - 0.12))
        sky = gt.slot_mask(20, 40, crop_top=0.0, crop_bottom=1.0 - keep)
        assert sky.max() == 0


@pytest.mark.parametrize("kwargs", [dict(height=0, width=10), dict(height=10, width=10,
                                    crop_top=0.7, crop_bottom=0.3),
                                    dict(height=10, width=10, thickness=0)])
def test_bad_mask_arguments(kwargs):
    _, gt = random_frame(1, width=64, height=36)
    with pytest.raises(InputError):
        gt.slot_mask(**kwargs)


def test_bad_size_is_refused():
    with pytest.raises(InputError, match="width, height"):
        random_frame(0, width=8, height=100)
