"""Bird's-eye mapping: from pose, from four points (+ intrinsics), dash measurement, the CLI."""

import json
import math

import cv2
import numpy as np
import pytest

from lanecam.calibration import (Profile, birdseye_from_points, birdseye_from_pose, load_profile,
                         pose_ground_to_image, save_profile)
from lanecam.calibration.dashes import measure_dash_px
from lanecam.pipeline.cli import main
from lanecam.pipeline.errors import InputError

K = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
SIZE = (1280, 720)
HEIGHT, PITCH = 1.5, math.radians(4.0)


def _project(xy):
    h = np.c_[xy, np.ones(len(xy))] @ pose_ground_to_image(K, HEIGHT, PITCH).T
    return h[:, :2] / h[:, 2:]


def _to_metric(bird, px):
    h = np.c_[px, np.ones(len(px))] @ bird.homography(*SIZE).T
    return bird.to_metric(h[:, :2] / h[:, 2:])


ROAD = np.array([[-1.85, 6.0], [-1.85, 30.0], [1.85, 30.0], [1.85, 6.0], [0.3, 12.0],
                 [-4.0, 40.0]])


def test_pose_round_trip():
    bird = birdseye_from_pose(K, SIZE, HEIGHT, PITCH)
    np.testing.assert_allclose(_to_metric(bird, _project(ROAD)), ROAD, atol=1e-3)


def test_points_with_intrinsics_recover_the_pose_and_the_metres():
    bird = birdseye_from_points(_project(ROAD[:4]), SIZE, lane_width_m=3.7, camera_matrix=K)
    assert bird.pose["camera_height_m"] == pytest.approx(HEIGHT, rel=1e-4)
    assert bird.pose["pitch_rad"] == pytest.approx(PITCH, abs=1e-5)
    np.testing.assert_allclose(_to_metric(bird, _project(ROAD)), ROAD, atol=1e-3)


def test_points_without_intrinsics_are_metric_across():
    bird = birdseye_from_points(_project(ROAD[:4]), SIZE, lane_width_m=3.7)
    xy = _to_metric(bird, _project(ROAD[:4]))
    assert xy[3, 0] - xy[0, 0] == pytest.approx(3.7)


@pytest.mark.parametrize("pts", [
    [[264, 460], [584, 680], [700, 460], [1042, 680]],   # bottom above top
    [[1042, 680], [700, 460], [584, 460], [264, 680]],   # left and right swapped
    [[0, 0]] * 4,
])
def test_bad_points_refused(pts):
    with pytest.raises(InputError, match="birdseye"):
        birdseye_from_points(pts, SIZE)


def _dashed_top_view(dash=60, gap=180, offset=40):
    top = np.full((720, 400, 3), 70, np.uint8)
    top[:, 95:105] = (0, 200, 230)                   # solid yellow line
    for y0 in range(offset, 720, dash + gap):         # white dashes
        top[y0:y0 + dash, 295:305] = 235
    return top


def test_dash_length_measured_on_the_dashed_line():
    length, idx, n = measure_dash_px(_dashed_top_view(), [100, 300])
    assert idx == 1 and n >= 2 and length == pytest.approx(60, abs=2)


def test_no_dash_on_solid_lines():
    top = _dashed_top_view()
    top[:, 295:305] = 235
    assert measure_dash_px(top, [100, 300]) is None


def _profile(tmp_path):
    p = tmp_path / "cam.json"
    save_profile(Profile(SIZE, K, np.zeros(5), extra={"rms": 0.5}), p)
    return p


def _paint(img, x_m, y0, y1, colour):
    """Fill a 0.15 m wide painted strip of the road (a projected quad, as paint really looks)."""
    quad = np.array([[x_m - 0.075, y0], [x_m - 0.075, y1], [x_m + 0.075, y1], [x_m + 0.075, y0]])
    cv2.fillPoly(img, [np.round(_project(quad) * 8).astype(np.int32)], colour, cv2.LINE_AA,
                 shift=3)


def _road_frame():
    """A frame of a straight lane: solid left line, 3 m dashes every 12 m on the right."""
    img = np.full((SIZE[1], SIZE[0], 3), 80, np.uint8)
    _paint(img, -1.85, 4.0, 80.0, (0, 200, 230))
    for y0 in np.arange(5.0, 80.0, 12.0):
        _paint(img, 1.85, y0, y0 + 3.0, (235, 235, 235))
    return img


def test_cli_points_headless(tmp_path, capsys):
    prof = _profile(tmp_path)
    frame = tmp_path / "road.png"
    cv2.imwrite(str(frame), _road_frame())
    pts = _project(np.array([[-1.85, 6.0], [-1.85, 28.0], [1.85, 28.0], [1.85, 6.0]]))
    arg = ",".join(f"{v:.2f}" for v in pts.ravel())
    assert main(["birdseye", str(prof), "--frame", str(frame), "--points", arg,
                 "--preview", str(tmp_path / "prev.png")]) == 0
    out = capsys.readouterr().out
    assert "along from dashes" in out and (tmp_path / "prev.png").is_file()
    bird = load_profile(prof).birdseye
    assert load_profile(prof).extra["rms"] == 0.5          # the rest of the profile is kept
    np.testing.assert_allclose(_to_metric(bird, _project(ROAD)), ROAD, atol=0.02)
    # The dashes really are 3 m: the dash-based scale agrees with the intrinsics within 10 %.
    assert main(["birdseye", str(prof), "--frame", str(frame), "--points", arg,
                 "--along", "dash", "-o", str(tmp_path / "dash.json")]) == 0
    dash = load_profile(tmp_path / "dash.json").birdseye
    assert dash.m_per_px_y == pytest.approx(bird.m_per_px_y, rel=0.1)


def test_cli_pose(tmp_path):
    prof = _profile(tmp_path)
    assert main(["birdseye", str(prof), "--pose", f"{HEIGHT},{math.degrees(PITCH)}"]) == 0
    bird = load_profile(prof).birdseye
    assert bird.method == "pose"
    np.testing.assert_allclose(_to_metric(bird, _project(ROAD)), ROAD, atol=1e-3)


def test_cli_without_points_or_display(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    frame = tmp_path / "road.png"
    cv2.imwrite(str(frame), _road_frame())
    assert main(["birdseye", str(_profile(tmp_path)), "--frame", str(frame)]) == 2
    assert "--points" in capsys.readouterr().err
    assert main(["birdseye", str(_profile(tmp_path)), "--points", "1,2,3"]) == 2


def test_udacity_profile_maps_the_straight_lanes(shared_data):
    """The bundled profile on straight_lines2 (not the frame it was made on): both lane lines
    land 3.7 +/- 0.25 m apart and parallel (straight) in the top view."""
    prof = load_profile("udacity")
    img = cv2.imread(str(shared_data / "images/udacity-advanced/straight_lines2.jpg"))
    und = cv2.remap(img, *prof.undistort_maps(img.shape[1], img.shape[0]), cv2.INTER_LINEAR)
    top = cv2.warpPerspective(und, prof.birdseye.homography(1280, 720), prof.birdseye.dst_size)
    paint = top.max(axis=2) > 180
    widths = []
    for band in (slice(0, 240), slice(240, 480), slice(480, 720)):
        hist = paint[band].sum(axis=0).astype(float)
        # near where the points put the two lines (columns 320 and 960 of the top view)
        left, right = 170 + int(np.argmax(hist[170:470])), 810 + int(np.argmax(hist[810:1110]))
        if hist[left] > 20 and hist[right] > 20:   # both lines painted in this band
            widths.append((right - left) * prof.birdseye.m_per_px_x)
    assert len(widths) >= 2, widths
    assert all(abs(w - 3.7) < 0.25 for w in widths), widths
    assert max(widths) - min(widths) < 0.2, widths
