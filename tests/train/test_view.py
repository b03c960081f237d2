"""Samples seen at another camera's aspect ratio (``SampleMaker.view_for``, --aspect-jitter)."""

import json
from pathlib import Path

import cv2
import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.roadsim import random_frame
from lanecam.tools.train.data import (ASPECT_RANGE, SampleMaker, SyntheticSource, TuSimpleSource,
                                      View)

from .test_augment import H_SAMPLES, _road

SPEC = ModelSpec(crop_top=0.30)


def _stretch(view: View) -> float:
    """Vertical over horizontal scale of the window against the plain one."""
    plain = 1.0 - SPEC.crop_top - SPEC.crop_bottom
    return (plain / (1.0 - view.top - view.bottom)) / (1.0 / (1.0 - view.left - view.right))


def test_view_is_the_plain_crop_without_jitter_and_draws_nothing():
    maker = SampleMaker(SPEC)
    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    assert maker.view_for(rng, 0.31) == View(0.31, SPEC.crop_bottom)
    # no draw: recipes trained before the option existed make the same samples
    assert rng.bit_generator.state == before
    assert SampleMaker(SPEC, aspect_jitter=1.0).view_for(None, 0.3) == View(0.3, SPEC.crop_bottom)


def test_jittered_views_keep_the_horizon_and_the_centre():
    maker = SampleMaker(SPEC, aspect_jitter=1.0)
    rng = np.random.default_rng(0)
    stretches = []
    for _ in range(400):
        v = maker.view_for(rng, 0.3)
        assert v.top == 0.3                      # the far road stays where it was
        assert v.left == v.right                 # the ego lane stays in the middle
        assert v.left == 0.0 or v.bottom == SPEC.crop_bottom   # one way or the other
        stretches.append(_stretch(v))
    s = np.array(stretches)
    assert ASPECT_RANGE[0] - 1e-9 <= s.min() and s.max() <= ASPECT_RANGE[1] + 1e-9
    # both ways, both far: 4:3 cameras and CULane-wide ones
    assert (s < 0.8).any() and (s > 1.5).any() and 0.3 < (s > 1).mean() < 0.7
    half = SampleMaker(SPEC, aspect_jitter=0.5)
    plain = sum(half.view_for(rng, 0.3) == View(0.3, SPEC.crop_bottom) for _ in range(400))
    assert 150 < plain < 250


def test_slot_mask_maps_a_column_window():
    _, gt = random_frame(3, 640, 360)
    # one output column per frame column in both: the window's mask is the full mask's
    # middle half
    full = gt.slot_mask(64, 640, crop_top=0.3)
    window = gt.slot_mask(64, 320, crop_top=0.3, crop_left=0.25, crop_right=0.25)
    middle = full[:, 160:480]
    assert (middle > 0).sum() > 100
    for slot in np.unique(middle[middle > 0]):
        a, b = middle == slot, window == slot
        assert (a & b).sum() / (a | b).sum() > 0.9
    # a window that is not the middle half does not match it
    shifted = gt.slot_mask(64, 320, crop_top=0.3, crop_left=0.2, crop_right=0.3)
    assert ((shifted > 0) & (middle > 0)).sum() < 0.5 * (middle > 0).sum()


def test_real_samples_at_other_aspects_label_the_paint(tmp_path: Path):
    frame, lanes = _road()
    name = "clips/0313-1/1/20.jpg"
    (tmp_path / name).parent.mkdir(parents=True)
    cv2.imwrite(str(tmp_path / name), frame)
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"raw_file": name, "lanes": lanes, "h_samples": H_SAMPLES}))
    maker = SampleMaker(SPEC, photometric=False, flip=False, aspect_jitter=1.0)
    src = TuSimpleSource(maker, [labels], tmp_path)
    plain = TuSimpleSource(SampleMaker(SPEC, photometric=False, flip=False), [labels], tmp_path)
    slopes = []
    for seed in range(10):
        image, seg, exist = src(seed)
        assert exist[1] == 1.0 and exist[2] == 1.0
        big = cv2.resize(seg, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
        grey = image.mean(axis=2)
        # the labels sit on the paint: their pixels are mostly paint, the rest mostly road
        assert grey[big > 0].mean() > 150 and grey[big == 0].mean() < 100
        ys, xs = np.where(seg == 2)
        slopes.append(np.polyfit(ys, xs, 1)[0])
    ys, xs = np.where(plain(0)[1] == 2)
    base = np.polyfit(ys, xs, 1)[0]
    # the lines lean more or less than in the plain view: the network sees other geometry
    assert max(slopes) > 1.15 * base and min(slopes) < 0.85 * base


def test_synthetic_samples_use_one_window_for_image_and_labels():
    maker = SampleMaker(SPEC, photometric=False, flip=False, aspect_jitter=1.0)
    src = SyntheticSource(maker, mix="v1", render_size=(640, 360))
    sh, sw = maker.seg_size
    windows = set()
    for seed in range(100, 106):
        image, seg, _ = src(seed)
        # the source's own draws, in its order: the crop line, then the window
        rng = np.random.default_rng([seed, 7])
        view = maker.view_for(rng, maker.crop_for(rng))
        windows.add(view)
        frame, gt = random_frame(seed, 640, 360, mix=src.mix)
        assert np.array_equal(image, maker.image(frame, view.top, view))
        assert np.array_equal(seg, gt.slot_mask(sh, sw, thickness=maker.thickness,
                                                crop_top=view.top, crop_bottom=view.bottom,
                                                crop_left=view.left, crop_right=view.right))
        assert view != View(view.top, SPEC.crop_bottom)
    assert len(windows) == 6
