"""The same video through the threaded pipeline and through a plain sequential loop.

A thin wrapper over ``lanecam.pipeline.bench`` (the library behind ``lanecam bench``): both runs use
the same source, model, preprocessing, lane extraction, overlay and sinks, in one process;
it prints both end-to-end FPS figures and their ratio (compared as a ratio within one run,
because a shared machine is noisy). ``lanecam bench`` reports much more (model-only FPS,
latency percentiles, CPU, memory, the bound); use it for anything but this one ratio.

  python benchmarks/pipeline_vs_sequential.py [SOURCE] [--model M.onnx] [--frames N]
         [--sink video|null] [--threads N] [--repeat R]

SOURCE defaults to ../shared/data/videos/udacity_project_highway.mp4 when present, else the
synthetic drive. The model defaults to the bundled one.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "videos" / "udacity_project_highway.mp4"


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lanecam.pipeline.bench import DEFAULT_SOURCE, BenchSettings, run_benchmark
    from lanecam.pipeline.errors import LanecamError

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", nargs="?",
                   default=str(DEFAULT_VIDEO) if DEFAULT_VIDEO.is_file() else DEFAULT_SOURCE)
    p.add_argument("--model", help="ONNX model (default: the bundled one)")
    p.add_argument("--frames", type=int, help="stop after N frames")
    p.add_argument("--sink", choices=("video", "null"), default="video")
    p.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads")
    p.add_argument("--repeat", type=int,
                   help="alternate the two runs R times (default: lanecam bench's, up to 3)")
    args = p.parse_args(argv)
    settings = BenchSettings(source=args.source, frames=args.frames, engines=["onnxruntime"],
                             models=[args.model], threads=[args.threads], batch=1,
                             sinks=["video"] if args.sink == "video" else [],
                             repeat=args.repeat, tegrastats=False)
    try:
        r = run_benchmark(settings).data
    except LanecamError as exc:
        print(f"pipeline_vs_sequential: error: {exc}", file=sys.stderr)
        return exc.exit_code
    seq, pipe = r["sequential"]["fps"], r["pipelined"]["fps"]
    print(f"source {args.source}, model {args.model or 'bundled'}, sink {args.sink}, "
          f"threads {args.threads or 'default'}, runs {r['results'][0].get('runs', 1)}")
    rep = r["results"][0].get("repeats", {})
    for name, fps, key in (("sequential", seq, "sequential_fps"), ("pipeline", pipe,
                                                                   "pipelined_fps")):
        runs = ", ".join(f"{v:.1f}" for v in rep.get(key, [fps]))
        print(f"{name + ':':11s} {fps:6.1f} fps  (runs: {runs})")
    print(f"ratio pipeline/sequential: {pipe / seq:.2f}x")
    for warning in r["warnings"]:
        print(f"warning: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
