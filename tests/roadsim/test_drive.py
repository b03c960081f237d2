"""The drive (RoadRenderer): determinism, output buffer, temporal coherence, geometry truth."""

import math

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.roadsim import RoadRenderer
from lanecam.pipeline.roadsim.render import make_camera, render
from lanecam.pipeline.roadsim.road import Profile
from lanecam.pipeline.roadsim.scene import sample_scene

from .helpers import x_at


def test_same_seed_same_drive():
    a, b = RoadRenderer(160, 96, seed=5), RoadRenderer(160, 96, seed=5)
    for _ in range(4):
        (fa, ga), (fb, gb) = a.next(), b.next()
        assert np.array_equal(fa, fb)
        assert [ln.slot for ln in ga.lines] == [ln.slot for ln in gb.lines]
        assert all(np.array_equal(x.points, y.points) for x, y in zip(ga.lines, gb.lines))
        assert ga.lateral_offset_m == gb.lateral_offset_m


def test_writes_into_out_and_refuses_a_wrong_buffer():
    r = RoadRenderer(128, 72, seed=1)
    buf = np.zeros((72, 128, 3), np.uint8)
    frame, gt = r.next(out=buf)
    assert frame is buf and buf.any()
    assert gt.camera.height_m > 0 and math.isfinite(gt.horizon_y)
    with pytest.raises(InputError, match="out"):
        r.next(out=np.zeros((72, 128), np.uint8))
    with pytest.raises(InputError, match="fps"):
        RoadRenderer(128, 72, fps=0)


def test_consecutive_frames_change_little():
    w, h = 640, 360
    r = RoadRenderer(w, h, seed=2, fps=25.0)
    prev = None
    moves, frames = [], []
    for _ in range(40):
        frame, gt = r.next()
        frames.append(frame.astype(np.float32))
        lines = {round(ln.offset_m + r.d, 1): ln for ln in gt.lines}   # by road position
        y = 0.9 * h
        if prev is not None:
            for key, ln in lines.items():
                if key in prev:
                    a, b = x_at(prev[key].points, y), x_at(ln.points, y)
                    if np.isfinite(a) and np.isfinite(b):
                        moves.append(abs(a - b))
        prev = lines
    assert len(moves) >= 40
    assert np.max(moves) < 8.0 and np.median(moves) < 2.0, (np.max(moves), np.median(moves))
    diffs = [np.abs(a - b).mean() for a, b in zip(frames, frames[1:])]
    assert 0.0 < np.median(diffs) < 25.0      # it moves, but it is one scene


def test_exists_matches_lines_during_a_drive():
    r = RoadRenderer(160, 90, seed=3)
    for _ in range(10):
        _, gt = r.next()
        assert gt.exists.tolist() == [s in {ln.slot for ln in gt.lines}
                                      for s in ("L2", "L1", "R1", "R2")]


def _scene(k: float):
    """A scene whose road has constant curvature ``k`` (0 = straight)."""
    rng = np.random.default_rng(11)
    scene = sample_scene(rng, 640, 360, drive=True)
    scene.profile = Profile(np.random.default_rng(0), radius=(1.0, 1.0001), straight_p=1.0,
                            flat_p=1.0)
    scene.profile.k[:] = k
    scene.profile.ensure(2000.0)
    scene.profile.k[:] = k
    scene.vehicles, scene.hood = [], None
    scene.roll = 0.0
    return scene


@pytest.mark.parametrize("shift", [-0.5, 0.0, 0.6])
def test_straight_road_truth(shift):
    scene = _scene(0.0)
    lay = scene.layout
    lane = len(lay.lane_widths) // 2
    d_v = lay.lane_centre(lane) + shift
    cam = make_camera(scene)
    _, gt = render(scene, cam, 100.0, d_v, 0.0, [], np.random.default_rng(0))
    assert math.isinf(gt.curvature_radius_m)
    assert gt.lateral_offset_m == pytest.approx(shift)
    assert gt.lane_width_m == pytest.approx(lay.lane_widths[lane])
    lines = {ln.slot: ln for ln in gt.lines}
    if "L1" in lines and "R1" in lines:
        y = scene.height - 1.0
        xl, xr = x_at(lines["L1"].points, y), x_at(lines["R1"].points, y)
        if np.isfinite(xl) and np.isfinite(xr):
            # vehicle right of centre -> the lane centre appears left of the image centre
            centre = 0.5 * (xl + xr)
            assert np.sign(cam.cx - centre) == np.sign(shift) or abs(shift) < 1e-9


@pytest.mark.parametrize("k", [1 / 400.0, -1 / 400.0])
def test_curved_road_truth(k):
    scene = _scene(k)
    lay = scene.layout
    d_v = lay.lane_centre(0)
    cam = make_camera(scene)
    _, gt = render(scene, cam, 100.0, d_v, 0.0, [], np.random.default_rng(0))
    assert np.sign(gt.curvature_radius_m) == np.sign(k)
    assert abs(gt.curvature_radius_m) == pytest.approx(abs(1 / k), rel=0.05)
    # the lines bend the same way in the image: far points lie on the bending side of the
    # straight continuation of their near part
    ln = max(gt.lines, key=lambda ln: len(ln.points))
    p = ln.points.astype(np.float64)
    y_far, y_mid, y_near = p[0, 1] + 3, 0.5 * (p[0, 1] + p[-1, 1]), p[-1, 1]
    x_far, x_mid, x_near = (x_at(p, y) for y in (y_far, y_mid, y_near))
    straight = x_mid + (x_mid - x_near) * (y_far - y_mid) / (y_mid - y_near)
    assert np.sign(x_far - straight) == np.sign(k)
