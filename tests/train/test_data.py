"""Training samples: shapes, determinism, mirrored slots, TuSimple slot assignment, CULane
folders."""

import json
from pathlib import Path

import numpy as np
import pytest

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError
from lanecam.tools.train.data import (SampleMaker, SyntheticSource, TuSimpleSource, assign_slots,
                                      culane_to_tusimple, flip_sample)

SPEC = ModelSpec(crop_top=0.30)


def test_synthetic_sample_shapes_and_determinism():
    src = SyntheticSource(SampleMaker(SPEC))
    img, seg, exist = src(5)
    assert img.shape == (128, 320, 3) and img.dtype == np.uint8
    assert seg.shape == (64, 160) and seg.dtype == np.uint8
    assert exist.shape == (4,) and set(np.unique(exist)) <= {0.0, 1.0}
    again = src(5)
    assert np.array_equal(img, again[0]) and np.array_equal(seg, again[1])
    other = src(6)
    assert not np.array_equal(img, other[0])


def test_synthetic_source_draws_from_its_scene_mix():
    """``mix="v3"`` renders the v3 frame of a seed: on a seed whose lanes v3 redraws, the
    sample's labels move; a mix name that does not exist is one clear error."""
    from lanecam.pipeline.roadsim import random_frame
    from lanecam.pipeline.roadsim.mix import V3

    seed = next(s for s in range(200) if "uneven" in random_frame(s, 64, 36, mix=V3)[1].kind)
    maker = SampleMaker(SPEC)
    v2 = SyntheticSource(maker)(seed, augment=False)
    v3 = SyntheticSource(maker, mix="v3")(seed, augment=False)
    assert not np.array_equal(v2[1], v3[1])
    with pytest.raises(InputError, match="scene mix 'v9'"):
        SyntheticSource(maker, mix="v9")


def test_existence_matches_labels():
    src = SyntheticSource(SampleMaker(SPEC))
    for seed in range(6):
        _, seg, exist = src(seed)
        for i in range(4):
            assert bool(exist[i]) == bool((seg == i + 1).any())


def test_flip_mirrors_slots():
    img = np.zeros((4, 6, 3), np.uint8)
    img[:, 0] = 255
    seg = np.zeros((4, 6), np.uint8)
    seg[:, 0], seg[:, 1], seg[:, 4], seg[:, 5] = 1, 2, 3, 4   # L2 L1 . . R1 R2
    exist = np.array([1, 1, 0, 1], np.float32)
    fi, fs, fe = flip_sample(img, seg, exist)
    assert (fi[:, 5] == 255).all() and (fi[:, 0] == 0).all()
    # L2 at column 0 becomes R2 at column 5, L1 at 1 becomes R1 at 4, and so on
    assert list(fs[0]) == [1, 2, 0, 0, 3, 4]
    assert list(fe) == [1, 0, 1, 1]


def test_unaugmented_left_lines_stay_left():
    """Without augmentation L slots lie left of R slots in every row they share."""
    src = SyntheticSource(SampleMaker(SPEC))
    for seed in range(4):
        _, seg, _ = src(seed, augment=False)
        for row in seg:
            l1 = np.flatnonzero(row == 2)
            r1 = np.flatnonzero(row == 3)
            if l1.size and r1.size:
                assert l1.mean() < r1.mean()


def test_assign_slots_by_bottom_position():
    h = [300, 400, 500, 600, 700]
    lanes = [[600, 500, 400, 300, 200],      # reaches x=200 at the bottom: L1
             [620, 580, 540, 500, 460],      # x~460 at bottom... left of 640: nearer centre -> L1
             [660, 760, 860, 960, 1060],     # right: R1
             [-2, -2, -2, -2, -2]]           # empty: ignored
    got = {slot: pts[:, 0].tolist() for slot, pts in assign_slots(lanes, h, 1280, 720)}
    assert set(got) == {0, 1, 2}
    assert got[1][-1] == 460 and got[0][-1] == 200 and got[2][0] == 660


def test_tusimple_source_labels_real_frames(shared_data):
    folder = shared_data / "tusimple"
    src = TuSimpleSource(SampleMaker(SPEC), [folder / "labels.json"], folder)
    assert len(src) >= 1
    img, seg, exist = src(0, augment=False)
    assert img.shape == (128, 320, 3)
    assert exist.sum() >= 2 and (seg > 0).sum() > 50


def test_tusimple_source_bad_input(tmp_path):
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"raw_file": "a.png", "lanes": [], "h_samples": []}) + "\n")
    with pytest.raises(InputError, match="not found"):
        TuSimpleSource(SampleMaker(SPEC), [labels], tmp_path)
    labels.write_text("{not json\n")
    with pytest.raises(InputError, match="line 1"):
        TuSimpleSource(SampleMaker(SPEC), [labels], tmp_path)


def _day_road():
    """A daylight road at model input size: bright sky, grey asphalt, one white line."""
    img = np.full((128, 320, 3), 110, np.uint8)
    img[:30] = (190, 205, 225)
    for y in range(30, 128):                       # a line from the horizon to bottom left
        x = int(160 - (y - 30) * 1.2)
        img[y, max(x - 2, 0):x + 2] = 225
    return img


def test_night_transfer_darkens_and_keeps_the_paint_brighter_than_asphalt():
    from lanecam.tools.train.data import night_transfer

    day = _day_road()
    for seed in range(8):
        night = night_transfer(day, np.random.default_rng(seed))
        assert night.shape == day.shape and night.dtype == np.uint8
        assert night.mean() < 0.6 * day.mean()
        # in the headlight pool (bottom rows) the paint still stands out from the asphalt
        grey = night.astype(np.float32).mean(axis=2)
        y = 110
        x = int(160 - (y - 30) * 1.2)
        assert grey[y, x] > grey[y, x + 20] + 5, seed
    a = night_transfer(day, np.random.default_rng(3))
    b = night_transfer(day, np.random.default_rng(3))
    assert np.array_equal(a, b)                    # a sample depends only on its seed


def test_tusimple_source_night_share_changes_the_image_not_the_label(tmp_path):
    import cv2

    frame = np.full((720, 1280, 3), 120, np.uint8)
    frame[:250] = (230, 210, 190)
    cv2.line(frame, (600, 260), (100, 719), (235, 235, 235), 12)
    cv2.line(frame, (680, 260), (1180, 719), (235, 235, 235), 12)
    cv2.imwrite(str(tmp_path / "f.png"), frame)
    rows = list(range(260, 720, 10))
    lanes = [[int(600 - (y - 260) * 500 / 459) for y in rows],
             [int(680 + (y - 260) * 500 / 459) for y in rows]]
    (tmp_path / "labels.json").write_text(json.dumps(
        {"raw_file": "f.png", "lanes": lanes, "h_samples": rows}) + "\n")
    maker = SampleMaker(SPEC, photometric=False, flip=False)
    day = TuSimpleSource(maker, [tmp_path / "labels.json"], tmp_path)
    night = TuSimpleSource(maker, [tmp_path / "labels.json"], tmp_path, night=1.0)
    img_d, seg_d, ex_d = day(5)
    img_n, seg_n, ex_n = night(5)
    assert np.array_equal(seg_d, seg_n) and np.array_equal(ex_d, ex_n)
    assert img_n.mean() < 0.6 * img_d.mean()
    # never on an unaugmented sample (validation and threshold frames stay as they are)
    assert np.array_equal(night(5, augment=False)[0], day(5, augment=False)[0])


def _culane_folder(root, n=2):
    """A CULane-format folder: n frames 1640x590 with two lines drawn and labelled."""
    import cv2

    sub = root / "driver_00" / "clip.MP4"
    sub.mkdir(parents=True)
    ys = list(range(590, 260, -20))               # CULane lists points bottom-up
    left = [(420 + 0.9 * (590 - y), y) for y in ys]
    right = [(1220 - 0.9 * (590 - y), y) for y in ys]
    for i in range(n):
        img = np.full((590, 1640, 3), 70, np.uint8)
        for lane in (left, right):
            cv2.polylines(img, [np.int32(lane).reshape(-1, 1, 2)], False, (255, 255, 255), 6)
        cv2.imwrite(str(sub / f"{i:05d}.jpg"), img)
        (sub / f"{i:05d}.lines.txt").write_text(
            "\n".join(" ".join(f"{x:.2f} {y}" for x, y in lane) for lane in (left, right)) + "\n")
    (sub / "stray.jpg").write_bytes(b"")          # no labels beside it: not a frame
    return root, left, right


def test_culane_folders_become_tusimple_rows_with_position_slots(tmp_path):
    root, left, right = _culane_folder(tmp_path / "culane")
    out = culane_to_tusimple([root], tmp_path / "run" / "labels.json")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2
    row = rows[0]
    assert Path(row["raw_file"]).is_absolute() and row["raw_file"].endswith("00000.jpg")
    ys = row["h_samples"]
    assert ys[0] == 270 and ys[-1] == 590 and all(b - a == 10 for a, b in zip(ys, ys[1:]))
    i = ys.index(430)
    assert row["lanes"][0][i] == pytest.approx(420 + 0.9 * 160)
    # read back as a training sample: the left line is L1, the right one R1
    # absolute image paths: allowed for a label file lanecam wrote itself only
    src = TuSimpleSource(SampleMaker(SPEC), [out], tmp_path / "any", own_labels=[out])
    _, seg, exist = src(0, augment=False)
    assert exist.tolist() == [0.0, 1.0, 1.0, 0.0]
    r = seg[-4]
    assert (r == 2).any() and (r == 3).any()
    assert np.flatnonzero(r == 2).max() < seg.shape[1] // 2 < np.flatnonzero(r == 3).min()


def test_culane_folder_without_frames_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="expected CULane frames"):
        culane_to_tusimple([tmp_path / "empty"], tmp_path / "labels.json")


@pytest.mark.parametrize("change, match", [
    ({"lanes": [["a", "b", "c"]]}, "line 2: lane 0: expected numbers, got 'a'"),
    ({"lanes": [[1, 2]]}, r"line 2: lane 0 has 2 x values, expected one per row \(3 h_samples\)"),
    ({"lanes": [[float("nan"), 2, 3]]}, "line 2: lane 0: expected finite pixel coordinates"),
    ({"h_samples": [1, 2, 1e300]}, "line 2: h_samples: expected finite pixel coordinates"),
    ({"lanes": [[1, 2, -2147483649]]}, "got -2147483649"),
    ({"slots": ["L1", "X9"]}, "line 2: slots: expected a list of slot names"),
    ({"slots": ["L1"]}, r"slots: .*\(one per lane\)"),
    ({"absent": "L2"}, "line 2: absent: expected a list of slot names"),
])
def test_tusimple_source_refuses_bad_rows_when_it_reads_them(tmp_path, change, match):
    """In the parent, before any pool: a bad value is one line naming the file and the line,
    not a ValueError or IndexError from a sample worker."""
    (tmp_path / "a.png").write_bytes(b"")
    good = {"raw_file": "a.png", "lanes": [[1, 2, 3], [7, 8, 9]], "h_samples": [10, 20, 30]}
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(good) + "\n" + json.dumps({**good, **change}) + "\n")
    with pytest.raises(InputError, match=match) as exc:
        TuSimpleSource(SampleMaker(SPEC), [labels], tmp_path)
    assert str(exc.value).startswith(f"{labels}: line 2: ")


def test_tusimple_source_refuses_a_label_file_that_is_not_utf8(tmp_path):
    labels = tmp_path / "labels.json"
    labels.write_bytes(b'{"raw_file": "\xff"}\n')
    with pytest.raises(InputError, match=f"^{labels}: cannot read this TuSimple label file"):
        TuSimpleSource(SampleMaker(SPEC), [labels], tmp_path)


@pytest.mark.parametrize("value", ["nan", "inf", "1e300", "-2147483649"])
def test_culane_conversion_refuses_non_finite_or_absurd_points(tmp_path, value):
    root, _, _ = _culane_folder(tmp_path / "culane", n=1)
    labels = next(root.rglob("*.lines.txt"))
    labels.write_text(f"100 590 {value} 500 300 400\n")
    with pytest.raises(InputError, match=f"^{labels}: line 1: lane: expected finite pixel"):
        culane_to_tusimple([root], tmp_path / "run" / "labels.json")
    assert not (tmp_path / "run" / "labels.json").exists()


@pytest.mark.parametrize("row", [
    {"lanes": [[-2, -2, -2], [-2, -2, -2]], "h_samples": [10, 20, 30]},   # no lane anywhere
    {"lanes": [[1, 2, 3]], "h_samples": [-30, -20, -10]},                # rows above the image
    {"lanes": [], "h_samples": [10, 20, 30]},
])
def test_tusimple_source_refuses_labels_without_a_single_lane_point(tmp_path, row):
    """Before: such a file trained (on "no lanes anywhere") and the run exited 0."""
    (tmp_path / "a.png").write_bytes(b"")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"raw_file": "a.png", **row}) + "\n")
    with pytest.raises(InputError, match="no lane point in any labelled frame"):
        TuSimpleSource(SampleMaker(SPEC), [labels], tmp_path)
    # one frame with no lanes among labelled ones is fine: a real negative example
    good = {"raw_file": "a.png", "lanes": [[1, 2, 3]], "h_samples": [10, 20, 30]}
    labels.write_text(json.dumps(good) + "\n" + json.dumps({"raw_file": "a.png", **row}) + "\n")
    assert len(TuSimpleSource(SampleMaker(SPEC), [labels], tmp_path)) == 2
