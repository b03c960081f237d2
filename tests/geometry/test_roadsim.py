"""Geometry against the road renderer's ground truth (skipped until pipeline.roadsim exists).

The profile comes from the renderer's camera alone (height, pitch, roll, intrinsics), the lanes
are its ground-truth L1/R1 polylines, so this checks the bird's-eye mapping, the fits and the
sign conventions against an independent implementation of the same road.
Tolerances (stated): median |offset error| <= 0.10 m, median |width error| <= 0.10 m,
median |1/R error| <= 3e-4 1/m (R = 1 km +/- ~25 %), over frames where both ego lines exist.
"""

import math

import numpy as np
import pytest

from lanecam.calibration import profile_from_pose
from lanecam.pipeline.geometry import GeometryEstimator
from lanecam.pipeline.lanes.result import Lane, LaneResult

roadsim = pytest.importorskip("lanecam.pipeline.roadsim")


def _profile(cam, w, h):
    return profile_from_pose(cam.fx, cam.fy, cam.cx, cam.cy, w, h, cam.height_m, cam.pitch_rad,
                             getattr(cam, "roll_rad", 0.0))


def test_raw_geometry_matches_renderer_truth():
    w, h = 1280, 720
    r = roadsim.RoadRenderer(width=w, height=h, seed=0, fps=25.0)
    errs = {"offset": [], "width": [], "curv": []}
    truth = {"offset": [], "curv": []}
    for i in range(60):
        _, gt = r.next()
        lines = {ln.slot: ln for ln in gt.lines}
        if "L1" not in lines or "R1" not in lines:
            continue
        est = GeometryEstimator(_profile(gt.camera, w, h), w, h)  # the camera may move
        res = LaneResult(i, [Lane(s, np.asarray(lines[s].points, np.float32), 1.0, 1.0)
                             for s in ("L1", "R1")])
        raw = est.update(res)["raw"]
        if not raw["valid"]:
            continue
        errs["offset"].append(raw["offset_m"] - gt.lateral_offset_m)
        errs["width"].append(raw["lane_width_m"] - gt.lane_width_m)
        k_true = 0.0 if math.isinf(gt.curvature_radius_m) else 1.0 / gt.curvature_radius_m
        errs["curv"].append(raw["curvature_1pm"] - k_true)
        truth["offset"].append(gt.lateral_offset_m)
        truth["curv"].append(k_true)
    assert len(errs["offset"]) >= 30, "too few frames with both ego lines and a valid fit"
    med = {k: float(np.median(np.abs(v))) for k, v in errs.items()}
    assert med["offset"] <= 0.10, med
    assert med["width"] <= 0.10, med
    assert med["curv"] <= 3e-4, med
    # No sign convention flipped: where the truth varies, the estimates follow it.
    for key in ("offset", "curv"):
        t = np.array(truth[key])
        if np.std(t) > 4 * med[key]:
            est_vals = t + np.array(errs[key])
            assert np.corrcoef(t, est_vals)[0, 1] > 0.8, key
