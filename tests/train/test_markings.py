"""Road markings painted into labelled frames (``tools/train/markings.py``): paint on the road
in the lane's perspective, never above the horizon or over a car, labels unchanged in
training; and the validation measure built on it (``tools/evaluate/marked.py``)."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lanecam.engines.modelspec import ModelSpec
from lanecam.tools.train import data as train_data
from lanecam.tools.train.data import SampleMaker, TuSimpleSource
from lanecam.tools.train.markings import MARKING_KINDS, paint_marking

SPEC = ModelSpec(crop_top=0.30)
H_SAMPLES = list(range(400, 720, 10))
# two ego lines: 100 px apart on row 400, 700 px on row 720, meeting on row ~347
EGO = ((300, 600), (1000, 700))
HORIZON = 400 - 100 / (600 / 320)


def _road(lines=EGO):
    frame = np.full((720, 1280, 3), 90, np.uint8)
    pts = []
    for x_bottom, x_top in lines:
        xs = np.array([x_top + (x_bottom - x_top) * (y - 400) / 320 for y in H_SAMPLES])
        p = np.stack([xs, H_SAMPLES], axis=1)
        cv2.polylines(frame, [p.astype(np.int32)], False, (255, 255, 255), 12)
        pts.append(p)
    return frame, pts


@pytest.mark.parametrize("kind", MARKING_KINDS)
def test_each_kind_paints_bright_paint_on_the_road_below_the_horizon(kind):
    frame, (left, right) = _road()
    before = frame.copy()
    changed_frames = 0
    for seed in range(8):
        out = paint_marking(frame, left, right, np.random.default_rng(seed), kind)
        assert out.shape == frame.shape and out.dtype == np.uint8
        assert np.array_equal(frame, before)            # the input is never changed
        diff = np.abs(out.astype(int) - frame.astype(int)).max(-1) > 20
        if not diff.any():
            continue
        changed_frames += 1
        ys, xs = np.nonzero(diff)
        assert ys.min() > HORIZON                         # on the ground, not in the sky
        # paint: brighter than the asphalt it covers (the colour comes from the lines)
        assert out[diff].mean() > frame[diff].mean() + 40
    assert changed_frames >= 5


def test_a_marking_shrinks_with_distance():
    """The same stop line drawn near and far: fewer rows far away (perspective)."""
    frame, (left, right) = _road()
    heights = []
    for seed in range(40):
        out = paint_marking(frame, left, right, np.random.default_rng(seed), "stop_line")
        rows = np.nonzero((np.abs(out.astype(int) - frame.astype(int)).max(-1) > 20).any(1))[0]
        if len(rows) and rows.max() < 715:      # wholly inside the frame
            heights.append((rows.mean(), len(rows)))
    heights.sort()
    near, far = heights[-1], heights[0]
    assert near[0] > far[0] + 50 and near[1] > far[1]


def test_no_paint_on_a_car_or_outside_the_road():
    frame, (left, right) = _road()
    frame[560:700, 560:760] = (30, 30, 160)              # a red car in the ego lane
    car = frame[560:700, 560:760].copy()
    for seed in range(30):
        for kind in MARKING_KINDS:
            out = paint_marking(frame, left, right, np.random.default_rng(seed), kind)
            # blending softens the edges by a pixel or two; the body stays as it was
            assert np.abs(out[563:697, 563:757].astype(int) - car[3:-3, 3:-3]).max() <= 8


def test_unusable_labels_leave_the_frame_alone():
    frame, (left, right) = _road()
    crossing = left.copy()
    crossing[:, 0] = left[:, 0] - 50          # a "right" line left of the left one, parallel
    rng = np.random.default_rng(0)
    assert paint_marking(frame, left, crossing, rng) is frame
    assert paint_marking(frame, left, right[:1], rng) is frame
    # lines meeting below the frame's bottom: no horizon above the road
    below = right.copy()
    below[:, 0] = left[:, 0] + 5 + (720 - left[:, 1]) * 0.01
    assert paint_marking(frame, left, below, rng) is frame


def _labels(tmp_path: Path):
    frame, pts = _road()
    name = "clips/0313-1/1/20.jpg"
    (tmp_path / name).parent.mkdir(parents=True)
    cv2.imwrite(str(tmp_path / name), frame)
    labels = tmp_path / "labels.json"
    lanes = [[round(float(x)) for x in p[:, 0]] for p in pts]
    labels.write_text(json.dumps({"raw_file": name, "lanes": lanes, "h_samples": H_SAMPLES}))
    return labels


def test_training_samples_keep_their_labels(tmp_path: Path, monkeypatch):
    labels = _labels(tmp_path)
    maker = SampleMaker(SPEC, photometric=False, flip=False)
    on = TuSimpleSource(maker, [labels], tmp_path, markings=1.0)
    # off: not one draw more, so recorded recipes make the samples they made before
    plain = TuSimpleSource(maker, [labels], tmp_path)
    off = TuSimpleSource(maker, [labels], tmp_path, markings=0.0)
    for seed in range(4):
        assert all(np.array_equal(a, b) for a, b in zip(plain(seed), off(seed)))
    painted = [on(seed) for seed in range(6)]
    # the same draws with the paint thrown away: the label must be the same, the image not
    real = train_data.paint_marking
    monkeypatch.setattr(train_data, "paint_marking",
                        lambda frame, *a, **k: (real(frame, *a, **k), frame)[1])
    unpainted = [on(seed) for seed in range(6)]
    differ = 0
    for (image, seg, exist), (image0, seg0, exist0) in zip(painted, unpainted):
        assert np.array_equal(seg, seg0) and np.array_equal(exist, exist0)
        differ += not np.array_equal(image, image0)
    assert differ >= 4


def test_markings_option_is_checked_and_parsed():
    import argparse

    pytest.importorskip("tensorflow")
    from lanecam.pipeline.errors import InputError
    from lanecam.tools.train.cli import _apply_recipe, add_arguments
    from lanecam.tools.train.trainer import TrainConfig, check_config

    with pytest.raises(InputError, match="--markings"):
        check_config(TrainConfig(out="x", markings=1.5))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    plain = parser.parse_args(["--out", "r"])
    painted = parser.parse_args(["--out", "r", "--markings", "0.5"])
    _apply_recipe(plain)
    _apply_recipe(painted)
    # off unless asked for: every recipe trains as before
    assert (plain.markings, painted.markings) == (0.0, 0.5)


def test_marked_validation_frames_score_with_the_real_model():
    from lanecam.pipeline.data_paths import data_path
    from lanecam.tools.evaluate.datasets import load_tusimple
    from lanecam.tools.evaluate.marked import marked_views, marking_scores
    from lanecam.tools.evaluate.predict import read_image
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    labels = data_path(TRAIN_FOLDER, "labels.json")
    if labels is None:
        pytest.skip("needs ../shared/data/tusimple-train")
    rows = load_tusimple(labels.parent, lambda r: is_validation(r["raw_file"]))[:3]
    frames = [(r, read_image(labels.parent / r["raw_file"])) for r in rows]
    views = list(marked_views(frames, "crosswalk", draws=2))
    assert len(views) == 6
    for k, (name, painted, lanes, ys, _) in enumerate(views):
        row, frame = frames[k // 2]
        assert name == f"{row['raw_file']}#{k % 2}"
        assert lanes == row["lanes"] and ys == row["h_samples"]
        assert not np.array_equal(painted, frame)
    # two draws on one frame: two different crosswalks
    assert not np.array_equal(views[0][1], views[1][1])
    # fixed seeds: every model sees the same painted frames
    again = list(marked_views(frames, "crosswalk", draws=2))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(views, again))
    scores = marking_scores(None, rows, labels.parent)
    assert set(scores) == {"as recorded", *MARKING_KINDS, "mean acc - 0.5 FP"}
    for kind in MARKING_KINDS:
        acc, fp, fn = scores[kind]
        assert 0.0 <= acc <= 1.0 and 0.0 <= fp <= 1.0 and 0.0 <= fn <= 1.0
    # the bundled model still finds the lanes of these frames under a crosswalk
    assert scores["crosswalk"][0] > 0.8
