"""``lanecam batch`` on a folder of videos against ``lanecam run ... --lanes`` on each of them,
one after another: aggregate frames per second of both, their ratio, and Ray's start-up.

Both are timed as a user meets them, as separate commands (interpreter start, imports and
model loading included): the sequential figure is all frames over the sum of the ``run``
wall times; the batch figure is all frames over the ``batch`` wall time, given with and
without the start-up and shut-down of the local Ray that the command reports (a fixed cost
per job, whatever the archive's size; a cluster started once serves many jobs). With
``--repeat R`` the two alternate R times and the medians are compared (shared machines are
noisy; compare ratios from one invocation).

  python benchmarks/batch_vs_run.py [VIDEOS_DIR] [--repeat R] [--cpus-per-task N] [--json F]

VIDEOS_DIR defaults to ../shared/data/videos.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEOS = ROOT.parent / "shared" / "data" / "videos"
_TOTALS = re.compile(r"(\d+) frames processed in ([\d.]+) s.*wall ([\d.]+) s, Ray start-up "
                     r"([\d.]+) s, shut-down ([\d.]+) s")
_LANECAM = [sys.executable, "-m", "lanecam"]


def _frames(lanes: Path) -> int:
    with open(lanes, encoding="utf-8") as fh:
        return sum(1 for _ in fh)


def run_one_after_another(videos, work: Path) -> dict:
    """``lanecam run VIDEO --lanes OUT --quiet`` per video; wall times and frames."""
    walls, frames = [], 0
    for i, video in enumerate(videos):
        lanes = work / f"run{i}.jsonl"
        t0 = time.monotonic()
        proc = subprocess.run(_LANECAM + ["run", str(video), "--lanes", str(lanes), "--quiet"],
                              capture_output=True, text=True)
        walls.append(time.monotonic() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"batch_vs_run: lanecam run {video} failed:\n{proc.stderr}")
        frames += _frames(lanes)
    return {"frames": frames, "wall_s": sum(walls), "fps": frames / sum(walls),
            "per_video_s": [round(w, 2) for w in walls]}


def run_batch(folder: Path, work: Path, cpus_per_task=None) -> dict:
    """``lanecam batch FOLDER --out OUT`` with a fresh local Ray; wall time, Ray start-up."""
    out = work / f"batch-{time.monotonic_ns()}"
    t0 = time.monotonic()
    extra = [] if cpus_per_task is None else ["--cpus-per-task", str(cpus_per_task)]
    proc = subprocess.run(_LANECAM + ["batch", str(folder), "--out", str(out), "--quiet",
                                      *extra],
                          capture_output=True, text=True)
    wall = time.monotonic() - t0
    match = _TOTALS.search(proc.stderr)
    if proc.returncode != 0 or not match:
        raise SystemExit(f"batch_vs_run: lanecam batch failed ({proc.returncode}):\n"
                         f"{proc.stderr}")
    frames, startup, shutdown = int(match.group(1)), float(match.group(4)), float(match.group(5))
    return {"frames": frames, "wall_s": wall, "ray_startup_s": startup,
            "ray_shutdown_s": shutdown, "processing_s": float(match.group(2)),
            "fps": frames / wall, "fps_without_ray": frames / (wall - startup - shutdown)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("videos", nargs="?", default=str(DEFAULT_VIDEOS),
                   help="folder of videos (default ../shared/data/videos)")
    p.add_argument("--repeat", type=int, default=1, help="alternate both R times (medians)")
    p.add_argument("--cpus-per-task", type=float, default=None,
                   help="lanecam batch's (default: its own)")
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args(argv)
    folder = Path(args.videos)
    videos = sorted(folder.glob("*.mp4"))
    if not videos:
        print(f"batch_vs_run: error: {folder}: no .mp4 videos", file=sys.stderr)
        return 2
    runs, batches = [], []
    with tempfile.TemporaryDirectory(prefix="batch_vs_run-") as tmp:
        for i in range(max(1, args.repeat)):
            # alternate which goes first, so a trend in the machine's load hits both alike
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for which in order:
                if which == 0:
                    runs.append(run_one_after_another(videos, Path(tmp)))
                else:
                    batches.append(run_batch(folder, Path(tmp), args.cpus_per_task))
    med = statistics.median
    run_fps = med(r["fps"] for r in runs)
    batch_fps = med(b["fps_without_ray"] for b in batches)
    batch_fps_all = med(b["fps"] for b in batches)
    startup = med(b["ray_startup_s"] for b in batches)
    shutdown = med(b["ray_shutdown_s"] for b in batches)
    frames = runs[0]["frames"]
    if any(b["frames"] != frames for b in batches):
        print("batch_vs_run: warning: batch and run processed different frame counts")
    print(f"{len(videos)} videos, {frames} frames in {folder}; {len(runs)} run(s) each")
    print(f"lanecam run --lanes, one after another: {run_fps:6.1f} fps aggregate "
          f"({med(r['wall_s'] for r in runs):.1f} s wall)")
    print(f"lanecam batch, local Ray:               {batch_fps:6.1f} fps aggregate without "
          f"Ray's start-up and shut-down, {batch_fps_all:.1f} fps with them "
          f"({med(b['wall_s'] for b in batches):.1f} s wall)")
    print(f"Ray overhead: start-up {startup:.1f} s, shut-down {shutdown:.1f} s")
    print(f"ratio batch/run: {batch_fps / run_fps:.2f}x without Ray's start-up and shut-down, "
          f"{batch_fps_all / run_fps:.2f}x with them")
    if args.json:
        Path(args.json).write_text(json.dumps({"videos": [str(v) for v in videos],
                                               "run": runs, "batch": batches}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
