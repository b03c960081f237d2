"""Labels of the v2 scene kinds against the pixels: bare road edges and barriers are not lanes,
lanes continue behind vehicles, stop at the bonnet, and follow the paint through a wide lens."""

import numpy as np

from lanecam.pipeline.roadsim.lens import distort_points
from lanecam.pipeline.roadsim.objects import hood_top
from lanecam.pipeline.roadsim.render import make_camera, render
from lanecam.pipeline.roadsim.traffic import make_vehicle

from .helpers import densify, plain_scene, x_at


def _render(scene, d_v=None, vehicles=()):
    lay = scene.layout
    if d_v is None:
        d_v = lay.lane_centre(scene.ego_lane)
    return render(scene, make_camera(scene), 100.0, d_v, 0.0, list(vehicles),
                  np.random.default_rng(0))


def test_bare_edge_with_barrier_has_no_lane_there():
    scene = plain_scene(edge_barrier=1.0, bare_edge=1.0)
    lay = scene.layout
    assert not lay.lines[0].painted and not lay.lines[-1].painted
    assert {side for _, _, side in scene.barriers} == {"left", "right"}
    scene.ego_lane = len(lay.lane_widths) - 1          # rightmost lane: the edge is R1's place
    d_v = lay.lane_centre(scene.ego_lane)
    frame, gt = _render(scene, d_v)
    edges = (lay.boundaries[0] - d_v, lay.boundaries[-1] - d_v)
    for ln in gt.lines:
        assert min(abs(ln.offset_m - e) for e in edges) > 0.5, (ln.slot, ln.offset_m)
    assert not any(ln.slot in ("R1", "R2") for ln in gt.lines)
    # the barrier is drawn: without it the right part of the frame is different
    bare = plain_scene(edge_barrier=0.0, bare_edge=1.0)
    bare.ego_lane = scene.ego_lane
    frame0, gt0 = _render(bare, d_v)
    h, w = frame.shape[:2]
    diff = np.abs(frame.astype(int) - frame0.astype(int)).mean(axis=2)
    assert diff[h // 2:, w // 2:].mean() > 3.0
    assert [ln.slot for ln in gt.lines] == [ln.slot for ln in gt0.lines]


def test_painted_edge_beside_a_barrier_is_labelled():
    scene = plain_scene(edge_barrier=1.0)
    lay = scene.layout
    assert lay.lines[-1].painted
    scene.ego_lane = len(lay.lane_widths) - 1
    d_v = lay.lane_centre(scene.ego_lane)
    _, gt = _render(scene, d_v)
    r1 = [ln for ln in gt.lines if ln.slot == "R1"]
    assert r1 and abs(r1[0].offset_m - (lay.boundaries[-1] - d_v)) < 1e-6


def test_a_vehicle_hides_the_line_but_not_its_label():
    scene = plain_scene()
    lay = scene.layout
    d_v = lay.lane_centre(scene.ego_lane)
    line_d = lay.boundaries[scene.ego_lane + 1]       # R1
    car = make_vehicle(np.random.default_rng(3), scene.ego_lane, 9.0, kind="van")
    car["colour"] = np.full(3, 0.05)                  # a dark van on the line
    frame_a, gt_a = _render(scene, d_v)
    frame_b, gt_b = _render(scene, d_v, [(9.0, line_d, car)])
    r1a = next(ln for ln in gt_a.lines if ln.slot == "R1")
    r1b = next(ln for ln in gt_b.lines if ln.slot == "R1")
    assert np.array_equal(r1a.points, r1b.points)
    pts = densify(r1b.points.astype(np.float64), 1.0)
    assert np.max(np.diff(pts[:, 1])) <= 1.0 + 1e-6       # continuous, no gap behind the van
    xi, yi = np.round(pts[:, 0]).astype(int), np.round(pts[:, 1]).astype(int)
    a = frame_a[yi, xi].mean(axis=1)
    b = frame_b[yi, xi].mean(axis=1)
    hidden = (a - b) > 40
    assert hidden.sum() >= 10, hidden.sum()       # some of the line is covered by the van


def test_labels_stop_at_the_bonnet():
    scene = plain_scene(hood=1.0)
    assert scene.hood is not None
    scene.hood = (0.8, 0.04, np.full(3, 0.2))
    frame, gt = _render(scene)
    h, w = frame.shape[:2]
    top = hood_top(scene, w, h)
    assert gt.lines
    for ln in gt.lines:
        xi = np.clip(np.round(ln.points[:, 0]).astype(int), 0, w - 1)
        assert np.all(ln.points[:, 1] <= top[xi] + 0.5), ln.slot
    ego = [ln for ln in gt.lines if ln.slot in ("L1", "R1")]
    assert any(ln.points[-1, 1] > top.min() - 3 for ln in ego)    # they reach it
    below = frame[int(np.ceil(top.max())) + 2:]
    assert below.std(axis=(0, 1)).max() < 12                       # the bonnet, no paint


def test_labels_follow_the_paint_through_a_wide_lens():
    scene = plain_scene(seed=5)
    for ln in scene.layout.lines:
        ln.style, ln.alpha, ln.wear, ln.width = "solid", 1.0, 0.0, 0.2
    scene.fx = scene.fy = 0.28 * scene.width                  # ~120 deg
    scene.lens_k = 0.4
    scene.pitch = 0.12
    frame, gt = _render(scene)
    h, w = frame.shape[:2]
    grey = frame.mean(axis=2)
    on, off = [], []
    for ln in gt.lines:
        pts = densify(ln.points.astype(np.float64), 2.0)
        pts = pts[pts[:, 1] > gt.horizon_y + 0.25 * (h - gt.horizon_y)]
        for x, y in pts:
            xi, yi = int(round(x)), int(round(y))
            if 30 <= xi < w - 30:        # beside the line: wider than the near line's stroke
                on.append(grey[yi, xi])
                off.append(0.5 * (grey[yi, xi - 28] + grey[yi, xi + 28]))
    assert len(on) > 50
    assert np.mean(np.array(on) > np.array(off) + 20) > 0.85
    # the lens bends straight lines: the label is not the pinhole one
    scene.lens_k = 0.0
    _, gt0 = _render(scene)
    a = {ln.slot: ln for ln in gt.lines}
    b = {ln.slot: ln for ln in gt0.lines}
    slot = next(s for s in a if s in b)
    y = 0.5 * (a[slot].points[0, 1] + a[slot].points[-1, 1])
    assert abs(x_at(a[slot].points, y) - x_at(b[slot].points, y)) > 2.0
    moved = distort_points(b[slot].points.astype(np.float64), make_camera(scene), 0.4)
    assert np.isfinite(moved).all()
