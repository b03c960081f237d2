"""Preprocessor: crop, resize, colour, normalisation and layout as the ModelSpec says."""

import cv2
import numpy as np
import pytest

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.preprocess import Preprocessor, area_resize, halving_sizes


def _frame(h=72, w=128, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _reference(spec, frame):
    top, bottom = spec.crop_rows(frame.shape[0])
    img = area_resize(frame[top:bottom], spec.input_width, spec.input_height)
    if spec.color == "rgb":
        img = img[..., ::-1]
    x = (img.astype(np.float32) * spec.scale - np.float32(spec.mean)) / np.float32(spec.std)
    return x[None] if spec.layout == "NHWC" else x.transpose(2, 0, 1)[None]


@pytest.mark.parametrize("changes", [
    {},
    {"layout": "NCHW"},
    {"color": "bgr", "crop_top": 0.0, "crop_bottom": 0.2},
    {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
])
def test_matches_the_spec_reference(changes):
    spec = ModelSpec(input_height=16, input_width=32).replace(**changes)
    frame = _frame()
    pre = Preprocessor(spec, 128, 72)
    out = pre(frame)
    assert out.shape == spec.input_shape and out.dtype == np.float32
    np.testing.assert_allclose(out, _reference(spec, frame), atol=1e-5)


def test_writes_into_the_given_tensor_and_reuses_its_own():
    spec = ModelSpec(input_height=16, input_width=32)
    pre = Preprocessor(spec, 128, 72)
    own = pre(_frame(seed=1))
    assert pre(_frame(seed=2)) is own
    pooled = np.zeros(spec.input_shape, np.float32)
    assert pre(_frame(seed=3), out=pooled) is pooled
    np.testing.assert_allclose(pooled, _reference(spec, _frame(seed=3)), atol=1e-5)


@pytest.mark.parametrize("src, dst, halvings", [
    ((1280, 504), (320, 128), [(640, 252)]),           # 720p below a 30 % horizon crop
    ((1280, 512), (320, 128), [(640, 256), (320, 128)]),
    ((1279, 504), (320, 128), []),                     # odd: no exact halving
    ((600, 250), (320, 128), []),                      # less than twice the target
])
def test_halvings_only_where_exact_and_still_a_downscale(src, dst, halvings):
    assert halving_sizes(*src, *dst) == halvings


def test_area_resize_is_close_to_one_step_inter_area_and_exact_for_2x():
    frame = _frame(504, 1280, seed=4)
    one = cv2.resize(frame, (320, 128), interpolation=cv2.INTER_AREA).astype(int)
    two = area_resize(frame, 320, 128).astype(int)
    assert two.shape == one.shape
    # noise is the worst case for a changed filter footprint; real frames differ by ~0.5 level
    assert np.abs(two - one).mean() < 4
    half = area_resize(frame, 640, 252)
    blocks = frame.reshape(252, 2, 640, 2, 3).astype(np.float64).mean(axis=(1, 3))
    assert np.abs(half - blocks).max() <= 0.5 + 1e-9  # a 2x2 average, rounded


def test_the_halvings_go_into_buffers_allocated_once():
    spec = ModelSpec(input_height=16, input_width=32, crop_top=0.0)
    pre = Preprocessor(spec, 128, 72)
    assert [b.shape for b in pre._halved] == [(36, 64, 3), (18, 32, 3)]  # then 32x16
    buffer = pre._halved[0]
    frame = _frame(seed=5)
    pre(frame)
    assert pre._halved[0] is buffer  # written in place, not replaced
    np.testing.assert_array_equal(buffer, cv2.resize(frame, (64, 36),
                                                     interpolation=cv2.INTER_AREA))


def test_uint8_model_gets_raw_pixels():
    spec = ModelSpec(input_height=16, input_width=32, dtype="uint8", crop_top=0.0)
    out = Preprocessor(spec, 128, 72)(_frame())
    assert out.dtype == np.uint8
    ref = area_resize(_frame(), 32, 16)[..., ::-1]
    np.testing.assert_array_equal(out[0], ref)


def test_undistortion_maps_are_applied_first():
    spec = ModelSpec(input_height=16, input_width=32, crop_top=0.0)
    h, w = 72, 128
    # a map that mirrors the frame left-right stands in for an undistortion
    mx = np.tile(np.arange(w - 1, -1, -1, dtype=np.float32), (h, 1))
    my = np.tile(np.arange(h, dtype=np.float32)[:, None], (1, w))
    frame = _frame()
    out = Preprocessor(spec, w, h, undistort_maps=(mx, my))(frame)
    np.testing.assert_allclose(out, _reference(spec, frame[:, ::-1].copy()), atol=1e-5)
    with pytest.raises(InputError, match="undistortion maps"):
        Preprocessor(spec, 64, 36, undistort_maps=(mx, my))


def test_wrong_frame_or_out_refused():
    spec = ModelSpec(input_height=16, input_width=32)
    pre = Preprocessor(spec, 128, 72)
    with pytest.raises(InputError, match="expected a 128x72"):
        pre(_frame(36, 64))
    with pytest.raises(InputError, match="out must be"):
        pre(_frame(), out=np.zeros((1, 3, 16, 32), np.float32))
