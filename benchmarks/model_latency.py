"""Model-only latency of a lane model at batch 1: the engine alone, warmed up, on real frames.

  python benchmarks/model_latency.py [MODEL ...] [--engine onnxruntime] [--runs N]
         [--threads N]

MODEL defaults to the bundled LaneFCN. Input tensors are real frames (../shared/data/images)
preprocessed as the runtime does, or random ones when that folder is absent. Prints mean, p50,
p95 and p99 in milliseconds for each model, measured one after the other in this process;
compare models as ratios within one run (the machine is shared and noisy).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanecam.engines.loader import default_model_path, open_engine  # noqa: E402
from lanecam.pipeline.constants import IMAGE_EXTENSIONS  # noqa: E402
from lanecam.pipeline.errors import LanecamError  # noqa: E402
from lanecam.pipeline.metrics import latency_summary  # noqa: E402
from lanecam.pipeline.preprocess import Preprocessor  # noqa: E402

IMAGES = ROOT.parent / "shared" / "data" / "images"


def input_tensors(spec, count: int = 8):
    """Preprocessed real frames, or seeded random tensors when no frames are at hand."""
    import cv2

    paths = sorted(p for p in IMAGES.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    tensors = []
    for p in paths[:count]:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is not None:
            pre = Preprocessor(spec, img.shape[1], img.shape[0])
            tensors.append(pre(img).copy())
    if not tensors:
        rng = np.random.default_rng(0)
        tensors = [rng.random(spec.input_shape, dtype=np.float32) for _ in range(count)]
    return tensors


def measure(model, engine: str, runs: int, threads=None) -> dict:
    kwargs = {"threads": threads} if threads else {}
    with open_engine(model, engine=engine, **kwargs) as eng:
        tensors = input_tensors(eng.spec)
        for i in range(20):                       # warm-up: allocations, kernel choice
            eng.infer(tensors[i % len(tensors)])
        times = []
        for i in range(runs):
            t0 = time.perf_counter()
            eng.infer(tensors[i % len(tensors)])
            times.append(time.perf_counter() - t0)
        return {"model": str(model), "engine": eng.describe(), "runs": runs,
                **latency_summary(times)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="ONNX models (default: the bundled LaneFCN)")
    ap.add_argument("--engine", default="onnxruntime")
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--threads", type=int, help="intra-op threads (default: the engine's)")
    args = ap.parse_args(argv)
    try:
        for model in args.models or [default_model_path()]:
            r = measure(model, args.engine, args.runs, args.threads)
            print(f"{r['model']}: {r['engine']}, batch 1, {r['runs']} runs: mean "
                  f"{r['mean_ms']:.2f} ms, p50 {r['p50_ms']:.2f}, p95 {r['p95_ms']:.2f}, "
                  f"p99 {r['p99_ms']:.2f}")
    except LanecamError as exc:
        print(f"model_latency: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
