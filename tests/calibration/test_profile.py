"""Profiles: loading and validation, undistortion maps at any frame size, the bundled profile."""

import copy
import json

import cv2
import numpy as np
import pytest

from lanecam.calibration import Profile, bundled_profile, load_profile, save_profile
from lanecam.pipeline.errors import InputError

GOOD = {
    "image_size": [1280, 720],
    "camera_matrix": [[1150.0, 0, 670.0], [0, 1150.0, 390.0], [0, 0, 1]],
    "dist_coeffs": [-0.24, -0.03, 0.0, 0.0, 0.01],
    "rms": 0.99,
    "birdseye": {
        "method": "points", "image_size": [1280, 720],
        "src": [[264, 680], [584, 460], [700, 460], [1042, 680]],
        "dst": [[320, 720], [320, 0], [960, 0], [960, 720]],
        "dst_size": [1280, 720], "m_per_px_x": 0.0058, "m_per_px_y": 0.044,
        "vehicle_px": [630, 847],
    },
}


def _write(tmp_path, d):
    p = tmp_path / "p.json"
    p.write_text(json.dumps(d))
    return p


def _without(d, *path):
    d = copy.deepcopy(d)
    node = d
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return d


def _with(d, value, *path):
    d = copy.deepcopy(d)
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return d


@pytest.mark.parametrize("data, key", [
    (_without(GOOD, "camera_matrix"), "camera_matrix"),
    (_without(GOOD, "image_size"), "image_size"),
    (_with(GOOD, [[1, 0], [0, 1]], "camera_matrix"), "camera_matrix"),
    (_with(GOOD, [[-5.0, 0, 1], [0, 5, 1], [0, 0, 1]], "camera_matrix"), "camera_matrix"),
    (_with(GOOD, ["a", "b"], "image_size"), "image_size"),
    (_with(GOOD, [1280.5, 720], "image_size"), "image_size"),
    (_with(GOOD, [0.1, 0.2, 0.3], "dist_coeffs"), "dist_coeffs"),
    (_without(GOOD, "birdseye", "src"), "src"),
    (_with(GOOD, -0.01, "birdseye", "m_per_px_y"), "m_per_px_y"),
    (_with(GOOD, "x", "birdseye", "m_per_px_x"), "m_per_px_x"),
    (_with(GOOD, [[0, 0], [0, 0], [0, 0], [0, 0]], "birdseye", "src"), "src"),
    ([1, 2, 3], "JSON object"),
])
def test_bad_profiles_name_the_key(tmp_path, data, key):
    with pytest.raises(InputError, match=key):
        load_profile(_write(tmp_path, data))


def test_missing_and_non_json(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_profile(tmp_path / "none.json")
    p = tmp_path / "bad.json"
    p.write_text("{nope")
    with pytest.raises(InputError, match="not a JSON"):
        load_profile(p)


def test_round_trip_keeps_extra_keys(tmp_path):
    prof = load_profile(_write(tmp_path, GOOD))
    out = save_profile(prof, tmp_path / "again.json")
    again = load_profile(out)
    assert again.extra["rms"] == 0.99
    np.testing.assert_allclose(again.camera_matrix, prof.camera_matrix)
    np.testing.assert_allclose(again.birdseye.src, prof.birdseye.src)
    assert again.birdseye.m_per_px_y == prof.birdseye.m_per_px_y


def test_undistort_maps_shapes_and_consistency_with_points():
    prof = Profile((1280, 720), np.array(GOOD["camera_matrix"], float),
                   np.array(GOOD["dist_coeffs"]))
    m1, m2 = prof.undistort_maps(1280, 720)
    assert m1.shape == (720, 1280, 2) and m1.dtype == np.int16
    # map(u) = where undistorted pixel u comes from; undistort_points goes the other way.
    src = np.array([[100.0, 100.0], [1200.0, 650.0], [640.0, 360.0]])
    fx, fy = cv2.convertMaps(m1, m2, cv2.CV_32FC1)
    und = prof.undistort_points(src, 1280, 720)
    back = np.c_[cv2.remap(fx, und[:, :1].astype(np.float32), und[:, 1:].astype(np.float32),
                           cv2.INTER_LINEAR),
                 cv2.remap(fy, und[:, :1].astype(np.float32), und[:, 1:].astype(np.float32),
                           cv2.INTER_LINEAR)]
    np.testing.assert_allclose(back, src, atol=0.5)


def test_undistort_maps_scale_with_the_frame():
    """A 640x360 frame undistorted with its own maps = the 1280x720 result downscaled."""
    prof = Profile((1280, 720), np.array(GOOD["camera_matrix"], float),
                   np.array(GOOD["dist_coeffs"]))
    rng = np.random.default_rng(0)
    big = cv2.resize(rng.integers(0, 255, (45, 80, 3), np.uint8), (1280, 720),
                     interpolation=cv2.INTER_CUBIC)
    und_big = cv2.remap(big, *prof.undistort_maps(1280, 720), cv2.INTER_LINEAR)
    small = cv2.resize(big, (640, 360), interpolation=cv2.INTER_AREA)
    und_small = cv2.remap(small, *prof.undistort_maps(640, 360), cv2.INTER_LINEAR)
    expect = cv2.resize(und_big, (640, 360), interpolation=cv2.INTER_AREA)
    inner = (slice(40, 320), slice(60, 580))
    diff = np.abs(und_small[inner].astype(int) - expect[inner].astype(int)).mean()
    assert diff < 3.0
    # and it really undistorts: without the right maps the difference is much larger
    wrong = np.abs(small[inner].astype(int) - expect[inner].astype(int)).mean()
    assert wrong > 3 * diff


def test_bad_frame_size_refused():
    prof = Profile((1280, 720), np.eye(3), np.zeros(5))
    with pytest.raises(InputError, match="frame size"):
        prof.undistort_maps(0, 720)


def test_bundled_udacity_profile():
    prof = load_profile(bundled_profile("udacity"))
    assert load_profile("udacity").image_size == prof.image_size == (1280, 720)
    assert prof.camera_matrix[0, 0] == pytest.approx(1157, rel=0.02)
    assert prof.extra["rms"] <= 1.3
    b = prof.birdseye
    assert b is not None and b.m_per_px_x == pytest.approx(3.7 / 640)
    assert 0.02 < b.m_per_px_y < 0.08
    with pytest.raises(InputError, match="available"):
        bundled_profile("nope")
