"""tools/geometry_report.py on a synthetic lanes JSONL."""

import json

import numpy as np

from lanecam.calibration import save_profile
from lanecam.tools.geometry_report import load_frames, main, recompute, summarise

from .synth import H, W, lane_result, make_profile


def _jsonl(tmp_path, n=60):
    rng = np.random.default_rng(3)
    p = tmp_path / "lanes.jsonl"
    with p.open("w") as f:
        for i in range(n):
            res = lane_result(i, 1000.0, 0.2, 3.7, noise_px=1.5, rng=rng,
                              drop=("R1", "L1") if 30 <= i < 33 else ())
            f.write(json.dumps({"frame_id": i, "lanes": [
                {"slot": l.slot, "points": l.points.tolist()} for l in res.lanes]}) + "\n")
    return p


def test_report_recomputes_and_smoothing_reduces_jitter(tmp_path, capsys):
    prof = save_profile(make_profile(), tmp_path / "p.json")
    lanes = _jsonl(tmp_path)
    s = summarise(recompute(load_frames(lanes), prof, W, H))
    assert s["frames"] == 60 and s["raw_valid"] == 57 and s["smoothed_valid"] == 60
    assert s["offset_m"]["ratio"] < 0.6 and s["curvature_1pm"]["ratio"] < 0.6
    assert main([str(lanes), "--profile", str(prof), "--size", f"{W}x{H}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 60


def test_rejections_group_by_cause_and_the_range_is_summarised():
    """Reasons that differ only in their numbers are one line; the range the lines were used
    to (raw.range_m) is summarised over the raw-valid frames."""
    geoms = [{"valid": True, "raw": {"valid": True, "range_m": r}} for r in (20.0, 30.0, 40.0)]
    geoms += [{"valid": False, "raw": {"valid": False, "reason": why}} for why in (
        "lines not parallel (width varies 0.82 m > 0.7 within 19 m)",
        "lines not parallel (width varies 1.26 m > 0.7 within 21 m)",
        "width 2.10 m outside [2.5, 5.0]")]
    s = summarise(geoms)
    assert s["raw_rejections"] == {"lines not parallel (width varies # m > # within # m)": 2,
                                   "width # m outside [#, #]": 1}
    assert s["range_m"]["median"] == 30.0
