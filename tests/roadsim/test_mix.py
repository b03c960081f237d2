"""Scene distributions v2 and v3 (mix.py): knobs, ranges, determinism per seed, no-road and bare
roads, uneven lane widths."""

import math

import numpy as np
import pytest

from lanecam.pipeline.roadsim import random_frame
from lanecam.pipeline.roadsim.mix import DEFAULT_MIX, NO_ROAD_KINDS, V1, V3, apply_mix
from lanecam.pipeline.roadsim.scene import sample_scene

from .helpers import first_seed


def _scenes(n=400, mix=DEFAULT_MIX):
    return [apply_mix(sample_scene(np.random.default_rng(s), 640, 360), mix) for s in range(n)]


def test_v1_mix_changes_nothing():
    for scene in _scenes(60, V1):
        assert scene.kind == "road" and scene.no_road is None
        assert scene.lens_k == 0 and scene.wet == 0 and scene.bloom == 0
        assert 1.2 <= scene.cam_h <= 1.8


def test_every_kind_is_drawn_at_about_its_rate():
    scenes = _scenes(600)
    tags = [set(s.kind.split("+")) for s in scenes]
    rate = lambda name: np.mean([name in t for t in tags])   # noqa: E731
    no_road = np.mean([s.no_road is not None for s in scenes])
    assert 0.02 <= no_road <= 0.09
    assert 0.15 <= rate("traffic") <= 0.35
    assert rate("rural-bare") > 0.01 and rate("rural-edges") > 0.03
    for kind in ("jersey", "rail", "wall", "curb", "hedge", "bare-edge", "hood", "wet",
                 "night", "camera", "roll"):
        assert rate(kind) > 0.02, kind


def test_camera_ranges():
    cams = [s for s in _scenes(400) if "camera" in s.kind]
    assert len(cams) > 100
    h = np.array([s.cam_h for s in cams])
    fov = np.degrees([2 * math.atan(0.5 * s.width / s.fx) for s in cams])
    assert h.min() >= 1.0 and h.max() <= 3.0 and np.ptp(h) > 1.5
    assert fov.min() >= 40.0 - 1e-6 and fov.max() <= 120.0 + 1e-6 and np.ptp(fov) > 60
    assert any(s.lens_k > 0 for s in cams)
    assert max(abs(s.roll) for s in _scenes(400)) > 0.1


@pytest.mark.parametrize("kind", ["traffic", "wet", "night", "camera", "hedge", "no-road"])
def test_same_seed_same_frame_per_kind(kind):
    seed = first_seed(lambda s: kind in s.kind and (kind != "camera" or s.lens_k > 0))
    (fa, ga), (fb, gb) = random_frame(seed, 320, 180), random_frame(seed, 320, 180)
    assert kind in ga.kind
    assert np.array_equal(fa, fb)
    assert [ln.slot for ln in ga.lines] == [ln.slot for ln in gb.lines]
    assert all(np.array_equal(x.points, y.points) for x, y in zip(ga.lines, gb.lines))


@pytest.mark.parametrize("kind", NO_ROAD_KINDS)
def test_no_road_frames_have_no_lanes(kind):
    seed = first_seed(lambda s: s.no_road == kind)
    frame, gt = random_frame(seed, 320, 180)
    assert gt.lines == [] and not gt.exists.any()
    assert gt.slot_mask(64, 160, thickness=3, crop_top=0.3).max() == 0
    assert gt.tusimple_lanes(range(60, 180, 10)) == []
    grey = frame.mean(axis=2)
    if kind in ("black", "tunnel"):
        assert np.median(grey) < 30, np.median(grey)
    if kind == "white":
        assert np.median(grey) > 200, np.median(grey)


def test_a_road_without_paint_has_no_lanes():
    seeds = [s for s in range(400) if _rural_bare(s)][:4]
    assert seeds
    for seed in seeds:
        frame, gt = random_frame(seed, 320, 180)
        assert gt.lines == [], seed
        assert frame.std() > 5       # a road is there, just no paint on it


def _rural_bare(seed):
    scene = apply_mix(sample_scene(np.random.default_rng(seed), 32, 18))
    return "rural-bare" in scene.kind


def test_rural_edge_lines_only():
    seed = first_seed(lambda s: "rural-edges" in s.kind and s.no_road is None
                      and len(s.layout.lane_widths) == 2)
    scene = apply_mix(sample_scene(np.random.default_rng(seed), 320, 180))
    painted = [ln.d for ln in scene.layout.lines if ln.painted]
    assert painted == [scene.layout.boundaries[0], scene.layout.boundaries[-1]]


def test_v3_uneven_lanes_move_lines_and_right_barriers_only():
    """v3 = v2 + other lane widths: same scene otherwise, lines on the new boundaries, the
    ego lane's width kept, right-hand barriers moved with the road edge."""
    changed = 0
    for seed in range(300):
        v2 = apply_mix(sample_scene(np.random.default_rng(seed), 640, 360), DEFAULT_MIX)
        v3 = apply_mix(sample_scene(np.random.default_rng(seed), 640, 360), V3)
        if "uneven" not in v3.kind:
            assert v3.kind == v2.kind
            assert v3.layout.lane_widths == v2.layout.lane_widths
            continue
        changed += 1
        assert v3.kind.replace("uneven+", "").replace("uneven", "road") == v2.kind
        w2, w3 = np.array(v2.layout.lane_widths), np.array(v3.layout.lane_widths)
        ego = v3.ego_lane
        assert w3[ego] == w2[ego]
        lo, hi = np.clip(w3[ego] * np.array([0.7, 1.45]), 2.5, 5.0)
        others = np.delete(w3, ego)
        assert np.all((others >= lo - 1e-9) & (others <= hi + 1e-9))
        assert [ln.d for ln in v3.layout.lines] == pytest.approx(v3.layout.boundaries.tolist())
        shift = v3.layout.boundaries[-1] - v2.layout.boundaries[-1]
        for (k2, d2, s2), (k3, d3, s3) in zip(v2.barriers, v3.barriers):
            assert (k2, s2) == (k3, s3)
            assert d3 == pytest.approx(d2 + shift if s3 == "right" else d2)
    assert 60 <= changed <= 180      # about half of the multi-lane, non-rural, road frames


def test_v3_spreads_the_outer_lane_spacing():
    """The point of v3: the outer line's distance from the ego line, over the ego lane's width,
    varies; in v2 it is always near 1."""
    def ratios(mix):
        out = []
        for seed in range(300):
            s = apply_mix(sample_scene(np.random.default_rng(seed), 640, 360), mix)
            w = s.layout.lane_widths
            if s.no_road is None and "rural" not in s.kind and len(w) > 1:
                out += [w[i] / w[s.ego_lane] for i in range(len(w)) if i != s.ego_lane]
        return np.array(out)

    r2, r3 = ratios(DEFAULT_MIX), ratios(V3)
    assert np.ptp(r2) < 0.35
    assert r3.min() < 0.8 and r3.max() > 1.3
