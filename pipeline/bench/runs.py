"""The three measurements of one engine + model: model only, sequential loop, pipelined runtime.

All three use the same input (``BenchInput``), the same ``LaneDetector`` (made like
``lanecam run``'s: calibration, geometry, overlay with its HUD) and the same sinks, so that
their ratios mean something. Each returns a plain dict for the report; the per-frame
timelines are returned alongside for the plot.

- ``model_only``: the engine alone on a real preprocessed frame, batch 1, after warm-up
  calls, each call synchronised (``Engine.infer`` returns host outputs, so a GPU engine has
  finished when it returns); plus a batch-N throughput figure when the engine takes batches.
- ``sequential``: read, then the detector's steps (preprocess, infer, postprocess with
  geometry, draw), then the sinks, one after the other in this thread; per-stage wall and CPU time (all threads of the process, so ONNX Runtime's
  intra-op threads are counted).
- ``pipelined``: ``build_lane_pipeline`` (the runtime of ``lanecam run``), the sinks plus a
  ``RecordingSink``.

FPS is measured after ``warmup`` frames (see ``stats.steady_fps``); ``fps_overall`` includes
the start-up.
"""

import time
from typing import Callable, Optional

import numpy as np

from lanecam.pipeline.bench.context import (RunContext, RunResult, cpu_report, memory_report,
                                            open_sinks, run_count, timeline_capacity)
from lanecam.pipeline.bench.model_only import model_only
from lanecam.pipeline.bench.recorder import FrameTimeline, RecordingSink
from lanecam.pipeline.bench.resources import (CpuSnapshot, ResourceSampler, peak_rss_bytes,
                                      reset_peak_rss)
from lanecam.pipeline.bench.stats import latency_summary, steady_fps, warmup_for
from lanecam.pipeline.errors import LanecamError
from lanecam.pipeline.sources.base import ReadStatus

__all__ = ["RunContext", "RunResult", "model_only", "sequential", "pipelined"]

PIPELINE_STAGES = ("source", "preprocess", "infer", "postprocess", "sink")


# ---- sequential -------------------------------------------------------------------------------
_SEQ_STAGES = ("source", "preprocess", "infer", "lanes", "overlay", "sink")


def sequential(ctx: RunContext) -> RunResult:
    """Every stage in turn in this thread, on the same frames; per-stage wall and CPU time."""
    bi = ctx.bench_input
    detector = ctx.make_detector()
    engine = detector.engine
    sinks = open_sinks(ctx, "sequential")
    src = bi.make(run_count(ctx))
    cap = timeline_capacity(ctx)
    wall = {s: np.zeros(cap) for s in _SEQ_STAGES}
    cpu = {s: np.zeros(cap) for s in _SEQ_STAGES}
    model = np.zeros(cap)
    timeline = FrameTimeline(cap)
    buf = np.empty((bi.height, bi.width, 3), np.uint8)
    hud = {"fps": 0.0, "latency_ms": None, "dropped": 0, "engine": None}
    clock, pclock = time.monotonic, time.process_time
    n = 0
    try:
        with detector:
            hud["engine"] = detector.describe()
            sampler = ResourceSampler(lambda: n, ctx.sample_interval)
            reset_peak_rss()
            cpu0 = CpuSnapshot.take()
            start = clock()
            next_hud = start + 0.5
            deadline = start + ctx.seconds if ctx.seconds else None
            with sampler:
                while n < cap:
                    t = [clock()]
                    c = [pclock()]
                    status, frame, _ = src.read(out=buf)
                    if status is ReadStatus.TIMEOUT:  # a live stream reconnecting: keep waiting
                        if deadline is not None and clock() > deadline:
                            break
                        continue
                    if status is ReadStatus.ERROR:
                        raise LanecamError(f"{bi.uri}: the source failed while reading")
                    if status is not ReadStatus.OK:
                        break
                    t.append(clock()), c.append(pclock())
                    tensor = detector.preprocess(frame, undistorted=frame)
                    t.append(clock()), c.append(pclock())
                    outputs = detector.infer(tensor)
                    t.append(clock()), c.append(pclock())
                    result = detector.postprocess(outputs, bi.width, bi.height, n, frame=frame)
                    t.append(clock()), c.append(pclock())
                    detector.draw(frame, result, hud, inplace=True, undistort=False)
                    t.append(clock()), c.append(pclock())
                    for sink in sinks:
                        sink.write(frame, result, None)
                    t.append(clock()), c.append(pclock())
                    for k, s in enumerate(_SEQ_STAGES):
                        wall[s][n] = t[k + 1] - t[k]
                        cpu[s][n] = c[k + 1] - c[k]
                    model[n] = engine.last_latency_ms / 1e3
                    timeline.add(n, t[1], {"source": t[1], "preprocess": t[2], "infer": t[3],
                                           "postprocess": t[5], "sink": t[6]})
                    n += 1
                    if t[6] >= next_hud:  # the pipeline's HUD refreshes about as often
                        next_hud = t[6] + 0.5
                        hud["fps"] = round(n / (t[6] - start), 1)
                        hud["latency_ms"] = round((t[6] - t[1]) * 1e3, 1)
                    if deadline is not None and t[6] > deadline:
                        break
            end = clock()
            cpu1 = CpuSnapshot.take()
            peak = peak_rss_bytes()
    finally:
        src.close()
        for sink in sinks:
            sink.close()
    warm = warmup_for(n, ctx.warmup)
    done = timeline.finished()
    e2e = done - timeline.capture[:n]
    stages = {}
    mean_ms = lambda a: round(float(a.mean() * 1e3), 3) if len(a) else None  # noqa: E731
    for s in _SEQ_STAGES:
        stages[s] = {"wall_ms": latency_summary(wall[s][warm:n]),
                     "cpu_ms_mean": mean_ms(cpu[s][warm:n])}
    post_wall = wall["lanes"][:n] + wall["overlay"][:n]
    post_cpu = cpu["lanes"][:n] + cpu["overlay"][:n]
    stages["postprocess"] = {"wall_ms": latency_summary(post_wall[warm:]),
                             "cpu_ms_mean": mean_ms(post_cpu[warm:])}
    stages["model"] = {"wall_ms": latency_summary(model[warm:n])}
    fps = steady_fps(done, warm)
    report = {"fps": round(fps, 2) if fps else None,
              "fps_overall": round(n / (end - start), 2) if end > start else None,
              "frames": n, "warmup_frames": warm, "elapsed_s": round(end - start, 3),
              "latency_ms": latency_summary(e2e[warm:]), "stages": stages,
              "cpu": cpu_report(cpu0, cpu1, n),
              "memory": memory_report(sampler, peak, max(warm, n // 4)),
              "sinks": [s.describe() for s in sinks] or ["null"]}
    samples = {s: wall[s][warm:n].copy() for s in ("source", "preprocess", "infer", "sink")}
    samples["postprocess"] = post_wall[warm:].copy()
    ctx.on_progress(f"sequential: {report['fps'] or 0:.1f} fps ({n} frames)")
    return RunResult(report, timeline, samples)


# ---- pipelined --------------------------------------------------------------------------------
def pipelined(ctx: RunContext, tegrastats: Optional[Callable[[], object]] = None) -> RunResult:
    """The threaded runtime (``build_lane_pipeline``) on the same frames.

    ``tegrastats``: optional factory of a context manager sampling tegrastats during the run
    (its ``summary()`` goes into the report).
    """
    from lanecam.pipeline.core.build import build_lane_pipeline
    from lanecam.pipeline.metrics import Metrics

    bi = ctx.bench_input
    detector = ctx.make_detector()
    sinks = open_sinks(ctx, "pipelined")
    timeline = FrameTimeline(timeline_capacity(ctx))
    recorder = RecordingSink(timeline, time.monotonic)
    recorder.open(bi.width, bi.height, bi.fps)
    metrics = Metrics(window=max(4096, timeline_capacity(ctx)))
    src = bi.make(run_count(ctx))
    try:
        runner = build_lane_pipeline(src, detector, sinks + [recorder], metrics=metrics)
    except BaseException:
        src.close()
        for sink in sinks:
            sink.close()
        raise
    deadline = [None]

    def tick(m):
        m.tick()  # the HUD's values, as ``lanecam run`` refreshes them
        if ctx.seconds:
            now = time.monotonic()
            deadline[0] = deadline[0] or now + ctx.seconds
            if now > deadline[0]:
                runner.request_stop()

    sampler = ResourceSampler(lambda: metrics.frames_done, ctx.sample_interval)
    tegra = tegrastats() if tegrastats else None
    reset_peak_rss()
    cpu0 = CpuSnapshot.take()
    with sampler:
        if tegra is not None:
            with tegra:
                runner.run(on_tick=tick, tick_interval=0.1)
        else:
            runner.run(on_tick=tick, tick_interval=0.1)
    cpu1 = CpuSnapshot.take()
    peak = peak_rss_bytes()
    n = timeline.n
    warm = warmup_for(n, ctx.warmup)
    e2e = metrics.end_to_end.recent()
    stages, samples = {}, {}
    for name, stats in metrics.stages.items():
        s = stats.recent()
        skip = warmup_for(len(s), ctx.warmup)
        stages[name] = {"wall_ms": latency_summary(s[skip:])}
        if name in PIPELINE_STAGES:
            samples[name] = s[skip:]
    fps = steady_fps(timeline.finished(), warm)
    report = {"fps": round(fps, 2) if fps else None,
              "fps_overall": round(metrics.fps(), 2), "frames": metrics.frames_done,
              "warmup_frames": warm, "elapsed_s": round(metrics.elapsed(), 3),
              "latency_ms": latency_summary(e2e[warmup_for(len(e2e), ctx.warmup):]),
              "stages": stages, "dropped": metrics.dropped,
              "rings": {r.name: r.stats() for r in metrics.rings},
              "live": bool(bi.is_live), "cpu": cpu_report(cpu0, cpu1, metrics.frames_done),
              "memory": memory_report(sampler, peak, max(warm, n // 4)),
              "sinks": [s.describe() for s in sinks] or ["null"]}
    if tegra is not None:
        report["tegrastats"] = tegra.summary()
    ctx.on_progress(f"pipelined: {report['fps'] or 0:.1f} fps ({report['frames']} frames, "
                    f"dropped {report['dropped']})")
    return RunResult(report, timeline, samples)
