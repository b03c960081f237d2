"""The model alone: batch 1 (and batch N when the engine takes batches), warmed up, synchronised.

The engine runs on one real preprocessed frame of the benchmark's input; every call returns
host outputs, so a GPU engine has finished when the call returns (no asynchronous launches
counted as done). This is the figure papers publish; lanecam reports it next to the end-to-end
ones so the difference is visible.
"""

import time

import numpy as np

from lanecam.pipeline.bench.context import RunContext, RunResult
from lanecam.pipeline.metrics import latency_summary

__all__ = ["model_only", "batch_throughput"]


def model_only(ctx: RunContext, iterations: int) -> RunResult:
    """The engine alone: batch 1 (and batch ``ctx.batch`` when supported), warmed up."""
    bi = ctx.bench_input
    detector = ctx.make_detector()
    engine = detector.engine
    tensor = detector.preprocess(np.ascontiguousarray(bi.first_frame())).copy()
    warm = max(ctx.warmup, 3)
    with detector:
        for _ in range(warm):
            engine.infer(tensor)
        lat = np.empty(iterations)
        model = np.empty(iterations)
        deadline = time.perf_counter() + ctx.seconds if ctx.seconds else None
        n = 0
        t0 = time.perf_counter()
        for n in range(1, iterations + 1):
            t = time.perf_counter()
            engine.infer(tensor)
            lat[n - 1] = time.perf_counter() - t
            model[n - 1] = engine.last_latency_ms / 1e3
            if deadline is not None and time.perf_counter() > deadline:
                break
        total = time.perf_counter() - t0
        report = {"fps": round(n / total, 2), "iterations": n, "warmup": warm, "batch": 1,
                  "synchronized": True, "latency_ms": latency_summary(lat[:n]),
                  "engine_latency_ms": latency_summary(model[:n])}
        report["batch_n"] = batch_throughput(engine, tensor, ctx.batch)
        info = {"engine": engine.name, "describe": engine.describe(),
                "providers": list(engine.providers or []), "precision": engine.precision,
                "model": engine.spec.name,
                "intra_op_threads": getattr(engine, "intra_op_threads", None),
                "input": list(engine.spec.input_shape)}
    ctx.on_progress(f"model only: {report['fps']:.1f} fps (batch 1, {n} calls)")
    return RunResult({"model_only": report, "engine_info": info})


def batch_throughput(engine, tensor: np.ndarray, batch: int, min_seconds: float = 1.0) -> dict:
    if batch <= 1:
        return {"size": batch, "supported": False, "reason": "not asked (--batch 1)"}
    if not getattr(engine, "dynamic_batch", False):
        return {"size": batch, "supported": False,
                "reason": f"{engine.name}: the model has a fixed batch of 1"}
    batch_tensor = np.ascontiguousarray(np.repeat(tensor, batch, axis=0))
    try:
        engine.infer_batch(batch_tensor)  # warm-up: shapes, arenas
        engine.infer_batch(batch_tensor)
    except NotImplementedError as exc:
        return {"size": batch, "supported": False, "reason": str(exc)}
    lat = []
    t0 = time.perf_counter()
    while len(lat) < 5 or time.perf_counter() - t0 < min_seconds:
        t = time.perf_counter()
        engine.infer_batch(batch_tensor)
        lat.append(time.perf_counter() - t)
        if len(lat) >= 1000:
            break
    total = time.perf_counter() - t0
    return {"size": batch, "supported": True, "fps": round(batch * len(lat) / total, 2),
            "calls": len(lat), "latency_ms": latency_summary(lat)}
