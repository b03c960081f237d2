"""Strong augmentation of real labelled frames: the label moves with a camera warp, weather
keeps the label, an erased outer line leaves no paint and is labelled absent, the validation
split never reaches training."""

import json
from pathlib import Path

import cv2
import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.tools.train.augment import camera_warp, erase_line, warp_points, weather
from lanecam.tools.train.barriers import BARRIER_KINDS, paste_barrier
from lanecam.tools.train.data import SampleMaker, TuSimpleSource
from lanecam.tools.train.split import is_validation

SPEC = ModelSpec(crop_top=0.30)
H_SAMPLES = list(range(400, 720, 10))


def _road(width=1280, height=720, lines=((300, 600), (1000, 700))):
    """A grey frame with bright painted lines (x at the bottom, x at the top) and their
    TuSimple label row."""
    frame = np.full((height, width, 3), 90, np.uint8)
    lanes = []
    for x_bottom, x_top in lines:
        xs = [x_top + (x_bottom - x_top) * (y - 400) / 320 for y in H_SAMPLES]
        pts = np.array(list(zip(xs, H_SAMPLES)), np.int32)
        cv2.polylines(frame, [pts], False, (255, 255, 255), 12)
        lanes.append([round(x) for x in xs])
    return frame, lanes


def test_camera_warp_moves_the_label_with_the_paint():
    frame, lanes = _road()
    rng = np.random.default_rng(3)
    for _ in range(5):
        warped, m = camera_warp(frame, rng)
        assert warped.shape == frame.shape
        assert not np.array_equal(warped, frame)
        for xs in lanes:
            pts = warp_points(np.array(list(zip(xs, H_SAMPLES)), float), m)
            inside = ((pts[:, 0] >= 0) & (pts[:, 0] < 1280) & (pts[:, 1] >= 0) & (pts[:, 1] < 720))
            x, y = np.round(pts[inside]).astype(int).T
            # the moved label points still lie on the (moved) white paint
            assert inside.sum() > 10
            assert (warped[y, x, 0] > 200).mean() > 0.9


def test_weather_keeps_shape_and_changes_pixels():
    frame, _ = _road(320, 128)
    rng = np.random.default_rng(0)
    outs = [weather(frame, rng) for _ in range(20)]
    assert all(o.shape == frame.shape and o.dtype == np.uint8 for o in outs)
    # each look is drawn on its own; about three samples in four get at least one
    assert sum(not np.array_equal(o, frame) for o in outs) >= 10


def test_strong_samples_label_the_paint_and_skip_validation(tmp_path: Path):
    frame, lanes = _road()
    rows = []
    for name in ("clips/0313-1/1/20.jpg", "clips/0601/2/20.jpg"):
        (tmp_path / name).parent.mkdir(parents=True)
        cv2.imwrite(str(tmp_path / name), frame)
        rows.append({"raw_file": name, "lanes": lanes, "h_samples": H_SAMPLES})
    labels = tmp_path / "labels.json"
    labels.write_text("\n".join(json.dumps(r) for r in rows))
    maker = SampleMaker(SPEC, photometric=False, flip=False)
    src = TuSimpleSource(maker, [labels], tmp_path, strong=True, skip_validation=True)
    assert [r["raw_file"] for r in src.rows] == ["clips/0313-1/1/20.jpg"]
    hits = []
    for seed in range(12):
        image, seg, exist = src(seed)
        assert exist[1] == 1.0 and exist[2] == 1.0     # L1 and R1
        # labelled pixels sit on bright paint, unless weather darkened the whole frame
        big = cv2.resize(seg, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
        grey = image.mean(axis=2)
        on, off = grey[big > 0].mean(), grey[big == 0].mean()
        hits.append(on > off)
    assert sum(hits) >= 11


FOUR = ((-200, 500), (300, 600), (1000, 700), (1500, 800))   # L2, L1, R1, R2 at the bottom


def _points_of(xs):
    return np.array(list(zip(xs, H_SAMPLES)), float)


def test_erase_line_paints_out_that_line_only():
    frame, lanes = _road(lines=FOUR)
    out = erase_line(frame, _points_of(lanes[0]), np.random.default_rng(0))
    assert out.shape == frame.shape and out.dtype == np.uint8
    for i, xs in enumerate(lanes):
        pts = _points_of(xs)
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < 1280)
        x, y = np.round(pts[inside]).astype(int).T
        bright = (out[y, x, 0] > 200).mean()
        # the erased line's label points now show road grey; the others keep their paint
        assert bright < 0.05 if i == 0 else bright > 0.95, (i, bright)
    # the road far from the line is untouched
    assert np.array_equal(out[:, 640:], frame[:, 640:])


def _four_line_labels(tmp_path: Path):
    """The four-line road written as one TuSimple training frame; its frame and label file."""
    frame, lanes = _road(lines=FOUR)
    name = "clips/0313-1/1/20.jpg"
    (tmp_path / name).parent.mkdir(parents=True)
    cv2.imwrite(str(tmp_path / name), frame)
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"raw_file": name, "lanes": lanes, "h_samples": H_SAMPLES}))
    return frame, labels


def test_erase_outer_labels_the_erased_slot_absent(tmp_path: Path):
    frame, labels = _four_line_labels(tmp_path)
    maker = SampleMaker(SPEC, photometric=False, flip=False)
    off = TuSimpleSource(maker, [labels], tmp_path)
    on = TuSimpleSource(maker, [labels], tmp_path, erase_outer=1.0)
    for seed in range(6):
        # erasing off: the same samples as before the option existed (the same draws)
        assert all(np.array_equal(a, b) for a, b in zip(off(seed), TuSimpleSource(
            maker, [labels], tmp_path, erase_outer=0.0)(seed)))
        image, seg, exist = on(seed)
        assert exist[1] == exist[2] == 1.0
        gone = [k for k in (0, 3) if exist[k] == 0.0]
        assert len(gone) == 1                     # one outer line erased, the other kept
        k = gone[0]
        assert not (seg == k + 1).any()           # its pixels are background
        assert (seg == (3 - k) + 1).any()
        # no paint left where it was (a few edge pixels of this test's 12 px wide paint, which
        # keeps its width even far away where real paint is thin), against plenty before
        strip = slice(0, 60) if k == 0 else slice(-60, None)
        before = (off(seed)[0].mean(axis=2)[:, strip] > 200).mean()
        after = (image.mean(axis=2)[:, strip] > 200).mean()
        assert before > 0.01 and after < 0.1 * before, (before, after)
    # not augmenting (choosing frames) never erases
    assert (on(0, augment=False)[2] == 1.0).all()


def test_split_is_by_drive():
    assert is_validation("clips/0601/1494452553518276564/20.jpg")
    assert not is_validation("clips/0313-1/10000/20.jpg")
    assert not is_validation("clips/0313-2/0601/20.jpg")
    assert not is_validation("0601.jpg")


def test_paste_barrier_stands_where_the_erased_line_was():
    frame, lanes = _road(lines=FOUR)
    l2, l1 = _points_of(lanes[0]), _points_of(lanes[1])
    erased = erase_line(frame, l2, np.random.default_rng(0))
    for kind in BARRIER_KINDS:
        for seed in range(4):
            out = paste_barrier(erased, l2, l1, -1, np.random.default_rng(seed), kind)
            changed = np.abs(out.astype(int) - erased.astype(int)).max(axis=2) > 8
            # something stands beside the road: a band of rows above the line's base
            ys = [y for x, y in l2 if 0 <= x < 1280 and 440 <= y < 720]
            assert changed[:, :640].sum() > 1000, (kind, seed)
            rows_hit = sum(changed[int(y) - 30:int(y), :640].any() for y in ys)
            assert rows_hit >= 0.8 * len(ys), (kind, seed, rows_hit, len(ys))
            # the ego lane and everything right of it is untouched, L1's paint included
            x1, y1 = np.round(l1).astype(int).T
            assert (out[y1, x1, 0] > 200).all()
            assert not changed[:, 640:].any()


def test_paste_barrier_needs_a_lane_width():
    frame, lanes = _road(lines=FOUR)
    l2 = _points_of(lanes[0])
    # a "neighbour" that meets the line at the bottom: the lane would narrow towards the car
    crossing = l2.copy()
    crossing[:, 0] += 300 * (720 - l2[:, 1]) / 320
    assert paste_barrier(frame, l2, crossing, -1, np.random.default_rng(0)) is frame
    assert paste_barrier(frame, l2, l2[:1], -1, np.random.default_rng(0)) is frame


def test_barriers_keep_the_erased_slot_absent(tmp_path: Path):
    frame, labels = _four_line_labels(tmp_path)
    maker = SampleMaker(SPEC, photometric=False, flip=False)
    erase = TuSimpleSource(maker, [labels], tmp_path, erase_outer=1.0)
    off = TuSimpleSource(maker, [labels], tmp_path, erase_outer=1.0, barriers=0.0)
    on = TuSimpleSource(maker, [labels], tmp_path, erase_outer=1.0, barriers=1.0)
    differ = 0
    for seed in range(6):
        # barriers off: the erase-only samples, draw for draw
        assert all(np.array_equal(a, b) for a, b in zip(erase(seed), off(seed)))
        image, seg, exist = on(seed)
        assert exist[1] == exist[2] == 1.0
        gone = [k for k in (0, 3) if exist[k] == 0.0]
        assert len(gone) == 1 and not (seg == gone[0] + 1).any()
        differ += not np.array_equal(image, erase(seed)[0])
    assert differ == 6
