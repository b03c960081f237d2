"""One frame: scene + camera + vehicle pose -> (BGR uint8 frame, GroundTruth)."""

import math

import numpy as np

from lanecam.pipeline.roadsim.backdrop import paint_backdrop
from lanecam.pipeline.roadsim.camera import Camera
from lanecam.pipeline.roadsim.effects import finish
from lanecam.pipeline.roadsim.ground import ground_rows, visible_samples
from lanecam.pipeline.roadsim.labels import SLOTS, GroundTruth, LaneLineGT, clip_polyline
from lanecam.pipeline.roadsim.lens import distort_points
from lanecam.pipeline.roadsim.lights import wet_road
from lanecam.pipeline.roadsim.noroad import render_no_road
from lanecam.pipeline.roadsim.objects import Projector, draw_roadside, draw_vehicles, hood_top
from lanecam.pipeline.roadsim.paint import paint_ground
from lanecam.pipeline.roadsim.road import Centreline, centreline
from lanecam.pipeline.roadsim.scene import Scene

__all__ = ["render", "make_camera", "truth"]

F_MAX = 320.0


def make_camera(scene: Scene, pitch_delta: float = 0.0, roll_delta: float = 0.0) -> Camera:
    """The scene's camera, optionally nudged (road bumps)."""
    return Camera(scene.width, scene.height, scene.fx, scene.fy, scene.cx, scene.cy,
                  scene.cam_h, scene.pitch + pitch_delta, scene.roll + roll_delta)


def truth(scene: Scene, cam: Camera, cl: Centreline, d_v: float) -> GroundTruth:
    """Labels: painted lines projected through the same road model the painter inverts."""
    idx, rv = visible_samples(cam, cl, scene.label_far_m)
    painted = [ln for ln in scene.layout.lines if ln.painted]
    left = [ln for ln in painted if ln.d < d_v]
    right = [ln for ln in painted if ln.d >= d_v]
    slots = dict(zip(("L1", "L2"), left[::-1]))
    slots.update(zip(("R1", "R2"), right))
    m = cam.level_to_frame()
    bottom = hood_top(scene, cam.width, cam.height)
    _, rv_all = visible_samples(cam, cl, F_MAX)
    far_row = (rv_all[-1] if len(rv_all) else cam.height) + max(1.5, 0.004 * cam.height)
    lines = []
    for slot in SLOTS:
        ln = slots.get(slot)
        if ln is None or len(idx) < 2:
            continue
        x = cl.x[idx] + ln.d / cl.cos_t[idx]
        col, row, _ = cam.project(x, cl.f[idx], cl.u[idx])
        keep = row >= far_row
        col, row = col[keep], row[keep]
        pts = np.c_[col, row, np.ones_like(col)] @ m.T
        pts = distort_points(pts, cam, scene.lens_k)
        pts = clip_polyline(pts, cam.width, cam.height, bottom)[::-1]
        if len(pts) >= 2:
            inc = np.r_[True, np.diff(pts[:, 1]) > 1e-6]
            pts = pts[inc & (pts[:, 1] >= np.maximum.accumulate(pts[:, 1]))]
        if len(pts) < 2 or pts[-1, 1] - pts[0, 1] < 0.01 * cam.height:
            continue
        lines.append(LaneLineGT(slot, pts.astype(np.float32), ln.color, ln.style,
                                float(ln.d - d_v)))
    lay = scene.layout
    lane = lay.lane_of(d_v)
    centre = lay.lane_centre(lane)
    k0 = cl.k0
    radius = math.inf if k0 == 0 else 1.0 / k0 - centre
    horizon = cam.frame_horizon_y()
    if scene.lens_k > 0:
        horizon = float(distort_points(np.array([[cam.cx, horizon]]), cam, scene.lens_k)[0, 1])
    return GroundTruth(cam.width, cam.height, lines, horizon, cam, radius, d_v - centre,
                       lay.lane_widths[lane], scene.kind)


def render(scene: Scene, cam: Camera, s_v: float, d_v: float, psi: float, vehicles,
           rng: np.random.Generator, out=None, work=None):
    """Render one frame. ``vehicles``: (sigma ahead, d, params) tuples. ``work``: optional
    float32 (H, W, 3) scratch buffer reused between frames. Returns (frame, GroundTruth)."""
    if scene.no_road:
        return render_no_road(scene, cam, rng, finish, out, work)
    cl = centreline(scene.profile, s_v, d_v, psi)
    rows = ground_rows(cam, cl, F_MAX)
    img = work if work is not None else np.empty((cam.height, cam.width, 3), np.float32)
    r_ground = rows.r0 if rows is not None else cam.height
    heading = scene.profile.heading(s_v) + psi
    paint_backdrop(img, scene, cam, r_ground, heading)
    if rows is not None:
        paint_ground(img, rows, scene, cam, [ln for ln in scene.layout.lines if ln.painted])
    # a wet road mirrors what stands on it, not its own paint: remember the bare ground
    ground = img[r_ground:].copy() if scene.wet > 0 else None
    idx, _ = visible_samples(cam, cl, F_MAX)
    proj = Projector(cam, cl)
    draw_roadside(img, scene, proj, cl.sigma[idx], s_v)
    if len(idx):
        draw_vehicles(img, scene, proj, vehicles, float(cl.sigma[idx][-1]))
    if scene.wet > 0:
        wet_road(img, scene, r_ground, ground)
    gt = truth(scene, cam, cl, d_v)
    frame = finish(img, scene, cam, rng, out)
    return frame, gt
