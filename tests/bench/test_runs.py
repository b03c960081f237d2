"""The three measurements on a tiny model: what they report, not how fast."""

import pytest

from lanecam.pipeline.bench.model_only import batch_throughput
from lanecam.pipeline.bench.runs import RunContext, model_only, pipelined, sequential
from lanecam.pipeline.bench.source import BenchInput
from lanecam.pipeline.bench.tegrastats import TegrastatsSampler

from .helpers import SMALL_SYNTHETIC
from .test_tegrastats import ORIN_NANO_JP6, _fake_tegrastats


@pytest.fixture
def ctx(tiny_model):
    from lanecam.pipeline.detector import LaneDetector

    bi = BenchInput(SMALL_SYNTHETIC, frames=16, preload=4)
    return RunContext(bi, lambda: LaneDetector(tiny_model, engine="onnxruntime", threads=1),
                      warmup=2, batch=1)


def test_model_only(ctx):
    r = model_only(ctx, iterations=20).report
    mo = r["model_only"]
    assert mo["iterations"] == 20 and mo["fps"] > 0 and mo["synchronized"]
    assert mo["latency_ms"]["count"] == 20
    assert mo["latency_ms"]["p50_ms"] <= mo["latency_ms"]["p99_ms"] <= mo["latency_ms"]["max_ms"]
    assert mo["batch_n"]["supported"] is False  # --batch 1
    assert r["engine_info"]["providers"] == ["CPUExecutionProvider"]
    assert r["engine_info"]["input"] == [1, 32, 64, 3]


def test_batch_throughput_needs_a_dynamic_batch(tiny_model, tiny_model_b1):
    import numpy as np

    from lanecam.engines.loader import open_engine
    from lanecam.pipeline.detector import LaneDetector

    with open_engine(tiny_model, engine="onnxruntime") as engine:
        tensor = np.zeros(engine.spec.input_shape, np.float32)
        out = engine.infer_batch(np.repeat(tensor, 3, axis=0))
        assert out["lane_prob"].shape[0] == 3
        b = batch_throughput(engine, tensor, 4, min_seconds=0.01)
        assert b["supported"] and b["size"] == 4 and b["fps"] > 0
    with open_engine(tiny_model_b1, engine="onnxruntime") as engine:
        assert engine.dynamic_batch is False
        b = batch_throughput(engine, np.zeros(engine.spec.input_shape, np.float32), 4)
        assert b["supported"] is False and "fixed batch" in b["reason"]


def test_sequential_reports_every_stage(ctx):
    run = sequential(ctx)
    r = run.report
    assert r["frames"] == 16 and r["warmup_frames"] == 2
    assert r["fps"] > 0 and r["latency_ms"]["count"] == 14
    for stage in ("source", "preprocess", "infer", "lanes", "overlay", "postprocess", "sink",
                  "model"):
        assert r["stages"][stage]["wall_ms"]["count"] == 14, stage
    assert r["stages"]["infer"]["cpu_ms_mean"] >= 0
    assert r["memory"]["peak_rss_mb"] > 0
    assert r["cpu"]["process_cores"] >= 0
    assert run.timeline.n == 16 and list(run.timeline.frame_id[:16]) == list(range(16))


def test_pipelined_loses_nothing_and_samples_tegrastats(ctx, tmp_path):
    binary = _fake_tegrastats(tmp_path, [ORIN_NANO_JP6])
    run = pipelined(ctx, tegrastats=lambda: TegrastatsSampler(binary, interval_ms=10))
    r = run.report
    assert r["frames"] == 16 and r["dropped"] == 0 and not r["live"]
    assert list(run.timeline.frame_id[:16]) == list(range(16))  # in order
    assert set(r["latency_ms"]) >= {"p50_ms", "p95_ms", "p99_ms"}
    for stage in ("source", "preprocess", "infer", "postprocess", "sink", "model"):
        assert r["stages"][stage]["wall_ms"]["count"] > 0, stage
    assert all(ring["dropped"] == 0 for ring in r["rings"].values())
    assert r["tegrastats"]["samples"] >= 1
    assert r["sinks"] == ["null"]


def test_runs_write_real_sinks(ctx, tmp_path):
    from lanecam.pipeline.sinks import JsonLinesSink

    ctx.make_sinks = lambda tag: [JsonLinesSink(tmp_path / f"{tag}.jsonl")]
    sequential(ctx)
    pipelined(ctx)
    for tag in ("sequential", "pipelined"):
        assert len((tmp_path / f"{tag}.jsonl").read_text().splitlines()) == 16


def test_seconds_limit_stops_an_endless_run(tiny_model):
    from lanecam.pipeline.detector import LaneDetector

    bi = BenchInput(SMALL_SYNTHETIC, preload=3)
    ctx = RunContext(bi, lambda: LaneDetector(tiny_model, engine="onnxruntime", threads=1),
                     warmup=0, batch=1, seconds=0.3)
    assert 0 < sequential(ctx).report["frames"]
    r = pipelined(ctx).report
    assert 0 < r["frames"] and r["dropped"] == 0


def test_live_mode_paces_the_input_and_uses_live_rings(tiny_model):
    from lanecam.pipeline.detector import LaneDetector

    bi = BenchInput(SMALL_SYNTHETIC.replace("fps=25", "fps=200"), frames=20, preload=3,
                    live=True)
    assert bi.is_live and "camera" in bi.describe()["live_note"]
    ctx = RunContext(bi, lambda: LaneDetector(tiny_model, engine="onnxruntime", threads=1),
                     warmup=2, batch=1)
    r = pipelined(ctx).report
    assert r["live"] is True
    assert all(ring["policy"] != "block" for ring in r["rings"].values())
    assert r["frames"] + r["dropped"] == 20  # every frame is either processed or counted


def test_a_failing_source_ends_the_sequential_run_with_its_name(tiny_model):
    from lanecam.pipeline.detector import LaneDetector
    from lanecam.pipeline.errors import LanecamError
    from lanecam.pipeline.sources.base import ReadStatus

    bi = BenchInput(SMALL_SYNTHETIC, frames=8, preload=2)

    class Failing:
        uri, frame_count, is_live = "fake://cam", None, True

        def __init__(self):
            self.reads = 0

        def read(self, out=None, timeout=1.0):
            self.reads += 1
            if self.reads == 1:
                return ReadStatus.TIMEOUT, None, 0.0  # waited for, not an error
            return ReadStatus.ERROR, None, 0.0

        def close(self):
            pass

    bi.make = lambda count=None: Failing()
    bi.uri = "fake://cam"
    ctx = RunContext(bi, lambda: LaneDetector(tiny_model, engine="onnxruntime", threads=1),
                     warmup=0, batch=1)
    with pytest.raises(LanecamError, match="fake://cam: the source failed"):
        sequential(ctx)
