"""GeometryEstimator against exact synthetic roads (circles seen by a pinhole camera)."""

import math

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.geometry import GEOMETRY_KEYS, GeometryEstimator
from lanecam.pipeline.lanes.result import LaneResult
from .synth import H, K, W, lane_result, make_profile, project

# Noise-free tolerances: the quadratic fit of a circle over ~45 m.
CASES = [
    # radius, offset, width
    (math.inf, 0.0, 3.7),
    (2000.0, 0.4, 3.7),
    (-1200.0, -0.6, 3.5),
    (600.0, 0.0, 3.3),
    (-400.0, 0.9, 4.0),
]


@pytest.mark.parametrize("radius, offset, width", CASES)
def test_raw_estimates_match_the_road(radius, offset, width):
    est = GeometryEstimator(make_profile(), W, H)
    raw = est.update(lane_result(0, radius, offset, width))["raw"]
    assert raw["valid"], raw["reason"]
    assert raw["offset_m"] == pytest.approx(offset, abs=0.02)
    assert raw["lane_width_m"] == pytest.approx(width, abs=0.02)
    # Compare curvatures (1/R): finite for straight roads, and what the fit really estimates.
    assert raw["curvature_1pm"] == pytest.approx(1.0 / radius, abs=2e-5, rel=0.02)


def test_noisy_sequence_smoothed_beats_raw():
    """2 px of point noise: the smoothed values jitter less and stay near the truth."""
    rng = np.random.default_rng(1)
    est = GeometryEstimator(make_profile(), W, H)
    raw_k, sm_k, raw_off, sm_off = [], [], [], []
    for i in range(80):
        g = est.update(lane_result(i, 900.0, 0.3, 3.7, noise_px=2.0, rng=rng))
        if i < 20:
            continue  # let the filter settle
        raw_k.append(g["raw"]["curvature_1pm"])
        sm_k.append(g["curvature_1pm"])
        raw_off.append(g["raw"]["offset_m"])
        sm_off.append(g["offset_m"])
    assert np.std(np.diff(sm_k)) < 0.5 * np.std(np.diff(raw_k))
    assert np.std(np.diff(sm_off)) < 0.5 * np.std(np.diff(raw_off))
    assert np.mean(sm_off) == pytest.approx(0.3, abs=0.05)
    assert 1.0 / np.mean(sm_k) == pytest.approx(900.0, rel=0.25)


def test_output_keys_and_result_geometry_set():
    est = GeometryEstimator(make_profile(), W, H)
    res = lane_result(0, 1000.0, 0.1)
    g = est.update(res)
    assert set(GEOMETRY_KEYS) <= set(g)
    assert res.geometry is g
    assert g["valid"] and g["departure"] == "none" and g["status"] == "init"


def test_no_lanes_is_invalid_with_reason():
    g = GeometryEstimator(make_profile(), W, H).update(LaneResult(0))
    assert not g["valid"] and not g["raw"]["valid"]
    assert g["offset_m"] is None and g["curvature_radius_m"] is None
    assert "left" in g["raw"]["reason"] and "right" in g["raw"]["reason"]


def test_narrow_lane_rejected_by_width_gate():
    g = GeometryEstimator(make_profile(), W, H).update(lane_result(0, math.inf, 0.0, 2.0))
    assert not g["raw"]["valid"] and "width" in g["raw"]["reason"]


def test_diverging_lines_rejected_by_parallelism_gate():
    res = lane_result(0, math.inf, 0.0, 3.7)
    # Replace R1 by the line of a lane that bends away: 1.5 m wider 40 m ahead.
    bent = lane_result(0, 250.0, 0.0, 3.7)
    res.lanes[1] = bent.lanes[1]
    g = GeometryEstimator(make_profile(), W, H).update(res)
    assert not g["raw"]["valid"] and "parallel" in g["raw"]["reason"]


def test_one_line_uses_the_smoothed_width():
    est = GeometryEstimator(make_profile(), W, H)
    for i in range(5):
        est.update(lane_result(i, 1500.0, 0.2, 3.6))
    g = est.update(lane_result(5, 1500.0, 0.2, 3.6, drop=("R1",)))
    assert g["raw"]["valid"] and g["raw"]["lines"] == "left"
    assert g["raw"]["offset_m"] == pytest.approx(0.2, abs=0.03)


def test_frame_size_differs_from_calibration_size():
    """Lanes given in 640x360 pixels of the same camera give the same answer."""
    est = GeometryEstimator(make_profile(), 640, 360)
    res = lane_result(0, 800.0, -0.5, 3.7)
    for lane in res.lanes:
        lane.points = lane.points * 0.5
    raw = est.update(res)["raw"]
    assert raw["offset_m"] == pytest.approx(-0.5, abs=0.03)
    assert raw["curvature_1pm"] == pytest.approx(1 / 800.0, rel=0.05)


def test_distorted_points_are_undistorted_when_asked():
    import cv2
    dist = np.array([-0.25, 0.05, 0.0, 0.0, 0.0])
    prof = make_profile(dist=dist)
    res = lane_result(0, 700.0, 0.4, 3.7)
    for lane in res.lanes:  # what a camera with this distortion would have shown
        rays = cv2.undistortPoints(lane.points.reshape(-1, 1, 2).astype(np.float64), K, None)
        pts3 = np.c_[rays.reshape(-1, 2), np.ones(len(rays))]
        lane.points = cv2.projectPoints(pts3, np.zeros(3), np.zeros(3), K, dist)[0].reshape(-1, 2)
    wrong = GeometryEstimator(prof, W, H, undistorted=True).update(res)["raw"]
    right = GeometryEstimator(prof, W, H, undistorted=False).update(res)["raw"]
    assert right["offset_m"] == pytest.approx(0.4, abs=0.03)
    assert right["curvature_1pm"] == pytest.approx(1 / 700.0, rel=0.05)
    assert abs(wrong["curvature_1pm"] - 1 / 700.0) > abs(right["curvature_1pm"] - 1 / 700.0)


def test_profile_without_birdseye_refused():
    prof = make_profile()
    prof.birdseye = None
    with pytest.raises(InputError, match="birdseye"):
        GeometryEstimator(prof, W, H)


def test_departure_warning_when_drifting_right():
    est = GeometryEstimator(make_profile(), W, H)
    states = []
    for i, off in enumerate(np.r_[np.zeros(10), np.linspace(0, 1.0, 30), np.linspace(1.0, 0, 30)]):
        states.append(est.update(lane_result(i, math.inf, float(off), 3.7))["departure"])
    assert "right" in states and "left" not in states
    assert states[-1] == "none" and states[0] == "none"
    first = states.index("right")
    assert states[first:].count("none") == len(states) - first - states[first:].count("right")


def _pull_out_far_end(res, slot, beyond_m, by_m, **cam):
    """``res`` with the points of ``slot`` further than ``beyond_m`` ahead moved ``by_m``
    outwards: the far end of a line dragged onto a car or past a dash gap."""
    lane = res.lane(slot)
    prof = make_profile(**cam)
    est = GeometryEstimator(prof, W, H)
    xy = est.to_road(lane.points)
    side = -1.0 if slot == "L1" else 1.0
    far = xy[:, 1] > beyond_m
    xy[far, 0] += side * by_m * (xy[far, 1] - beyond_m) / (xy[:, 1].max() - beyond_m)
    lane.points = project(xy, **cam)
    return res


def test_far_end_off_the_line_shortens_the_range_instead_of_blanking():
    """A far end 1 m off the line (past 26 m) used to fail the parallelism gate and blank the
    frame; now the lines are used as far as they are parallel."""
    res = _pull_out_far_end(lane_result(0, 1200.0, 0.3, 3.7), "R1", 26.0, 1.0)
    raw = GeometryEstimator(make_profile(), W, H).update(res)["raw"]
    assert raw["valid"], raw["reason"]
    assert 20.0 <= raw["range_m"] < 40.0
    # what is left of the bent end still tilts the fit a little
    assert raw["lane_width_m"] == pytest.approx(3.7, abs=0.2)
    assert raw["offset_m"] == pytest.approx(0.3, abs=0.1)
    assert 0 < raw["curvature_1pm"] < 2.5 / 1200.0


def test_full_range_used_when_the_lines_are_parallel():
    raw = GeometryEstimator(make_profile(), W, H).update(lane_result(0, 900.0, 0.0))["raw"]
    assert raw["valid"] and raw["range_m"] > 40.0


def test_lines_not_parallel_even_near_are_rejected():
    """Shortening stops at Gates.min_parallel_range_m: a line 1 m off from 8 m on is wrong."""
    res = _pull_out_far_end(lane_result(0, math.inf, 0.0, 3.7), "R1", 8.0, 1.5)
    raw = GeometryEstimator(make_profile(), W, H).update(res)["raw"]
    assert not raw["valid"] and "parallel" in raw["reason"]


def test_fit_weights_points_by_road_length_not_image_rows():
    """A model gives one point per image row: dense near the car, metres apart far ahead.
    A 4 px error along the bottom 120 rows (the bonnet edge, a vibrating mount) must not
    decide the curvature (unweighted, it moved R = 1500 m by 5 %; weighted, by 1 %)."""
    res = lane_result(0, 1500.0, 0.0, 3.7, y_max=45.0)
    for lane in res.lanes:
        # one point per image row, as the lane extractor gives
        rows = np.arange(np.ceil(lane.points[0, 1]), np.floor(lane.points[-1, 1]) + 1)
        xs = np.interp(rows, lane.points[:, 1], lane.points[:, 0])
        near = rows > H - 120
        xs[near] += 4.0 * (rows[near] - (H - 120)) / 120.0
        lane.points = np.c_[xs, rows].astype(np.float32)
    raw = GeometryEstimator(make_profile(), W, H).update(res)["raw"]
    assert raw["valid"], raw["reason"]
    assert raw["curvature_1pm"] == pytest.approx(1 / 1500.0, rel=0.02)
