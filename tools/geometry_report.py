"""Per-frame jitter of curvature and offset, before and after smoothing, from a lanes JSONL.

Input: the JSON lines of `lanecam run VIDEO --lanes lanes.jsonl` (one object per frame with
``frame_id`` and ``lanes``: [{"slot", "points": [[x, y], ...]}, ...], and ``geometry`` when the
run had a calibration). With --profile the geometry is recomputed from the lanes with
``GeometryEstimator`` (so smoothing settings can be compared without re-running the model);
without it the ``geometry`` stored in the file is used.

    python -m tools.geometry_report lanes.jsonl --profile udacity --size 1280x720 [--json]

Jitter = standard deviation of the frame-to-frame change over consecutive frames where the
value exists (a steady road makes it small; noise makes it large). Curvature is compared as
1/R (finite on straight roads); the radius is summarised separately.
"""

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

from lanecam.pipeline.options import finite_float

__all__ = ["load_frames", "recompute", "jitter", "summarise", "main"]


def load_frames(path):
    """Parse the JSONL into a list of dicts, naming the line of any malformed record."""
    from lanecam.pipeline.errors import InputError
    from lanecam.tools.evaluate.tusimple import load_jsonl

    try:
        frames = load_jsonl(path, "lanes JSONL")
    except InputError as exc:
        raise SystemExit(str(exc)) from None
    if not frames:
        raise SystemExit(f"{path}: no frames")
    return frames


def _lane_results(frames):
    from lanecam.pipeline.lanes.result import Lane, LaneResult
    for i, rec in enumerate(frames):
        lanes = []
        for lane in rec.get("lanes") or []:
            pts = np.asarray(lane.get("points") or [], np.float32).reshape(-1, 2)
            lanes.append(Lane(str(lane.get("slot")), pts, float(lane.get("confidence", 1.0)),
                              float(lane.get("exists", 1.0))))
        yield LaneResult(int(rec.get("frame_id", rec.get("frame", i))), lanes)


def recompute(frames, profile, width, height, fps=25.0, undistorted=True):
    """Geometry dicts from the frames' lanes with a fresh ``GeometryEstimator``."""
    from lanecam.calibration import load_profile
    from lanecam.pipeline.geometry import GeometryEstimator
    est = GeometryEstimator(load_profile(profile), width, height, fps=fps, undistorted=undistorted)
    return [est.update(res) for res in _lane_results(frames)]


def jitter(values):
    """(std of consecutive differences, number of differences) over non-missing neighbours."""
    v = np.array([np.nan if x is None else float(x) for x in values])
    d = np.diff(v)
    d = d[np.isfinite(d)]
    return (float(np.std(d)) if len(d) > 1 else math.nan), int(len(d))


def summarise(geoms):
    """Coverage, ranges and raw vs smoothed jitter of a list of geometry dicts."""
    n = len(geoms)
    g = [x or {} for x in geoms]
    raw = [x.get("raw") or {} for x in g]
    out = {"frames": n,
           "raw_valid": sum(bool(r.get("valid")) for r in raw),
           "smoothed_valid": sum(bool(x.get("valid")) for x in g)}
    for key in ("curvature_1pm", "offset_m", "lane_width_m"):
        j_raw, n_raw = jitter([r.get(key) if r.get("valid") else None for r in raw])
        j_sm, n_sm = jitter([x.get(key) for x in g])
        out[key] = {"jitter_raw": j_raw, "jitter_smoothed": j_sm, "pairs_raw": n_raw,
                    "pairs_smoothed": n_sm,
                    "ratio": (j_sm / j_raw) if j_raw and math.isfinite(j_raw) else math.nan}
    radii = np.array([abs(x["curvature_radius_m"]) for x in g
                      if x.get("curvature_radius_m") is not None])
    offs = np.array([x["offset_m"] for x in g if x.get("offset_m") is not None])
    if len(radii):
        out["radius_abs_m"] = {"p5": float(np.percentile(radii, 5)),
                               "median": float(np.median(radii)),
                               "p95": float(np.percentile(radii, 95))}
    if len(offs):
        out["offset_range_m"] = [float(offs.min()), float(offs.max())]
    out["departures"] = {s: sum(x.get("departure") == s for x in g) for s in ("left", "right")}
    reasons = {}
    for r in raw:
        if r and not r.get("valid"):
            kind = _reason_kind(r.get("reason") or "?")
            reasons[kind] = reasons.get(kind, 0) + 1
    out["raw_rejections"] = dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:8])
    ranges = [r["range_m"] for r in raw if r.get("valid") and r.get("range_m") is not None]
    if ranges:   # how far ahead the two lines were used (pipeline.geometry.fit)
        out["range_m"] = {"p5": float(np.percentile(ranges, 5)),
                          "median": float(np.median(ranges))}
    return out


def _reason_kind(reason: str) -> str:
    """A rejection reason with its numbers as '#': frames rejected for the same cause group."""
    return re.sub(r"-?\d+(\.\d+)?", "#", reason)


def _print(s):
    print(f"frames: {s['frames']}  geometry raw-valid: {s['raw_valid']}  "
          f"smoothed-valid: {s['smoothed_valid']}")
    print(f"{'value':16s} {'jitter raw':>12s} {'smoothed':>12s} {'ratio':>7s}")
    for key, unit in (("curvature_1pm", "1/m"), ("offset_m", "m"), ("lane_width_m", "m")):
        v = s[key]
        print(f"{key:16s} {v['jitter_raw']:12.3g} {v['jitter_smoothed']:12.3g} "
              f"{v['ratio']:7.2f}  ({unit} per frame)")
    if "radius_abs_m" in s:
        r = s["radius_abs_m"]
        print(f"|radius| smoothed: p5 {r['p5']:.0f} m, median {r['median']:.0f} m, "
              f"p95 {r['p95']:.0f} m")
    if "offset_range_m" in s:
        print("offset smoothed range: {:+.2f} .. {:+.2f} m".format(*s["offset_range_m"]))
    print(f"departure frames: left {s['departures']['left']}, right {s['departures']['right']}")
    if "range_m" in s:
        print(f"lines used up to: median {s['range_m']['median']:.0f} m ahead, "
              f"p5 {s['range_m']['p5']:.0f} m (raw-valid frames)")
    for why, count in s["raw_rejections"].items():
        print(f"  rejected {count}x: {why}")


def main(argv=None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(prog="python -m tools.geometry_report",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("lanes", help="lanes JSONL from `lanecam run ... --lanes`")
    ap.add_argument("--profile", help="recompute the geometry with this profile (path or "
                                      "bundled name, e.g. udacity)")
    ap.add_argument("--size", default="1280x720", help="frame size WxH of the lanes' pixels")
    ap.add_argument("--fps", type=finite_float, default=25.0)
    ap.add_argument("--distorted", action="store_true",
                    help="the run did not undistort: undistort the lane points here")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    frames = load_frames(args.lanes)
    if args.profile:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise SystemExit(f"--size: expected WxH like 1280x720, got {args.size!r}") from None
        geoms = recompute(frames, args.profile, w, h, args.fps, not args.distorted)
    else:
        geoms = [rec.get("geometry") for rec in frames]
        if not any(geoms):
            raise SystemExit(f"{args.lanes}: no 'geometry' in the records; pass --profile")
    s = summarise(geoms)
    if args.json:
        json.dump(s, sys.stdout, indent=2)
        print()
    else:
        _print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
