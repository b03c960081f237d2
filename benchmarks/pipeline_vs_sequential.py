"""The same video through the threaded pipeline and through a plain sequential loop.

Both runs use the same source, model, preprocessing, lane extraction, overlay and sink, in one
process, one after the other; the script prints both end-to-end FPS figures and their ratio
(DESIGN.md: compare as ratios in one run, the machine is shared and noisy).

  python benchmarks/pipeline_vs_sequential.py [SOURCE] [--model M.onnx] [--spec M.spec.json]
         [--frames N] [--sink video|null] [--threads N] [--repeat R]

SOURCE defaults to ../shared/data/videos/udacity_project_highway.mp4 when present, else
``synthetic://?frames=200``. The model defaults to the bundled one.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "videos" / "udacity_project_highway.mp4"


class Limited:
    """A source that ends after ``n`` frames (None: the whole source)."""

    def __init__(self, source, n):
        self.source, self.n, self.i = source, n, 0

    def __getattr__(self, name):
        return getattr(self.source, name)

    def read(self, out=None, timeout=1.0):
        from pipeline.sources import ReadStatus

        if self.n is not None and self.i >= self.n:
            return ReadStatus.END, None, 0.0
        status, frame, ts = self.source.read(out=out, timeout=timeout)
        self.i += status is ReadStatus.OK
        return status, frame, ts

    def close(self):
        self.source.close()


def _parts(args, out_dir: Path, tag: str):
    """Fresh source, engine, workers and sink (the same kinds for both runs)."""
    from engines.loader import open_engine
    from engines.modelspec import ModelSpec
    from pipeline.lanes import LaneExtractor
    from pipeline.overlay import Overlay
    from pipeline.preprocess import Preprocessor
    from pipeline.sinks import NullSink, VideoFileSink
    from pipeline.sources import open_source

    spec = ModelSpec.load(args.spec) if args.spec else None
    engine = open_engine(args.model, engine="onnxruntime", spec=spec, threads=args.threads)
    src = open_source(args.source)
    src.open()
    w, h, fps = src.width, src.height, src.fps or 25.0
    sink = VideoFileSink(out_dir / f"{tag}.mp4") if args.sink == "video" else NullSink()
    sink.open(w, h, fps)
    return (Limited(src, args.frames), engine, Preprocessor(engine.spec, w, h),
            LaneExtractor(engine.spec, w, h), Overlay(), sink)


def sequential(args, out_dir: Path) -> float:
    """Every stage in turn, in this thread; returns frames per second."""
    src, engine, pre, ext, overlay, sink = _parts(args, out_dir, "sequential")
    buf = np.empty((src.height, src.width, 3), np.uint8)
    n = 0
    with engine:
        engine.infer(pre(buf))  # warm-up, as the pipeline's open() does
        t0 = time.perf_counter()
        while True:
            status, frame, ts = src.read(out=buf)
            if status.name != "OK":
                break
            outputs = engine.infer(pre(frame))
            result = ext(outputs, n)
            overlay.draw(frame, result, {"fps": 0.0})
            sink.write(frame, result, None)
            n += 1
        sink.close()
        dt = time.perf_counter() - t0
    src.close()
    return n / dt


def pipelined(args, out_dir: Path) -> float:
    """The threaded pipeline (file mode: lossless); returns frames per second."""
    from pipeline.core import build_lane_pipeline

    src, engine, pre, ext, overlay, sink = _parts(args, out_dir, "pipeline")
    runner = build_lane_pipeline(src, engine, [sink], preprocessor=pre, extractor=ext,
                                 overlay=overlay)
    metrics = runner.run()
    return metrics.frames_done / metrics.elapsed()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", nargs="?",
                   default=str(DEFAULT_VIDEO) if DEFAULT_VIDEO.is_file() else
                   "synthetic://?frames=200")
    p.add_argument("--model", help="ONNX model (default: the bundled one)")
    p.add_argument("--spec", help="ModelSpec JSON for a model without one")
    p.add_argument("--frames", type=int, help="stop after N frames")
    p.add_argument("--sink", choices=("video", "null"), default="video")
    p.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads")
    p.add_argument("--repeat", type=int, default=1, help="alternate the two runs R times")
    args = p.parse_args(argv)
    seq, pipe = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            seq.append(sequential(args, Path(tmp)))
            pipe.append(pipelined(args, Path(tmp)))
    s, q = float(np.median(seq)), float(np.median(pipe))
    print(f"source {args.source}, model {args.model or 'bundled'}, sink {args.sink}, "
          f"threads {args.threads or 'default'}, runs {args.repeat}")
    print(f"sequential: {s:6.1f} fps  (runs: {', '.join(f'{v:.1f}' for v in seq)})")
    print(f"pipeline:   {q:6.1f} fps  (runs: {', '.join(f'{v:.1f}' for v in pipe)})")
    print(f"ratio pipeline/sequential: {q / s:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
