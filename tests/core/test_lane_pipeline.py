"""The real lane stages (preprocess, ONNX Runtime, extraction, overlay) wired by the builder."""

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

from lanecam.pipeline.core import build_lane_pipeline
from lanecam.pipeline.detector import LaneDetector
from lanecam.pipeline.sinks import NullSink, Sink

from .fakes import FakeSource


def _tinymodels():
    path = Path(__file__).resolve().parents[1] / "engines" / "tinymodels.py"
    spec = importlib.util.spec_from_file_location("lanecam_test_tinymodels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class RecordingSink(Sink):
    """Remembers frame ids, results and a pixel; optionally slow."""

    name = "record"

    def __init__(self, delay=0.0, name="record"):
        super().__init__()
        self.delay, self.name = delay, name
        self.ids, self.results, self.closed = [], [], False

    def _write(self, frame, result, meta):
        if self.delay:
            time.sleep(self.delay)
        self.ids.append(meta.frame_id)
        self.results.append(result)

    def _close(self):
        self.closed = True


class SizedFakeSource(FakeSource):
    def __init__(self, *a, width=96, height=64, **kw):
        super().__init__(*a, **kw)
        self.width, self.height = width, height


@pytest.fixture(scope="module")
def engine_factory(tmp_path_factory):
    pytest.importorskip("onnx")
    tm = _tinymodels()
    path = tm.make_model(tmp_path_factory.mktemp("m") / "tiny.onnx", tm.tiny_spec())

    def make():
        from lanecam.engines.onnxruntime_engine import OnnxRuntimeEngine

        return OnnxRuntimeEngine(path, threads=1)
    return make


def _build(source, engine, sinks):
    for s in sinks:
        s.open(source.width, source.height, 25.0)
    return build_lane_pipeline(source, LaneDetector(engine=engine), sinks)


@pytest.mark.smoke
def test_file_mode_with_a_slow_sink_loses_nothing(engine_factory):
    sink = RecordingSink(delay=0.01)
    runner = _build(SizedFakeSource(n=40), engine_factory(), [sink])
    metrics = runner.run()
    assert sink.ids == list(range(40))
    assert [r.frame_id for r in sink.results] == list(range(40))
    assert metrics.dropped == 0 and sink.closed
    assert metrics.engine.startswith("onnxruntime/")
    assert metrics.stages["model"].count == 40
    assert runner.pool.free_count == runner.pool.size


def test_display_sinks_get_the_latest_and_never_slow_the_file(engine_factory):
    record = RecordingSink()
    display = RecordingSink(delay=0.02, name="preview")  # a display sink, slower than the rest
    display.is_display = True
    runner = _build(SizedFakeSource(n=60), engine_factory(), [record, display])
    metrics = runner.run()
    assert record.ids == list(range(60))
    assert display.ids == sorted(display.ids) and len(display.ids) < 60
    assert metrics.frames_done == 60
    assert runner.pool.free_count == runner.pool.size


def test_live_mode_with_a_slow_sink_keeps_latency_bounded(engine_factory):
    fps = 30.0
    sink = RecordingSink(delay=1.5 / fps)
    runner = _build(SizedFakeSource(n=120, live=True, fps=fps), engine_factory(), [sink])
    metrics = runner.run()
    lat = metrics.end_to_end.recent() * fps  # in frame periods
    assert metrics.dropped > 10
    assert sink.ids == sorted(sink.ids)
    assert np.percentile(lat, 95) <= 4.0  # the slow sink plus about one period of waiting
    third = len(lat) // 3
    assert np.median(lat[-third:]) <= np.median(lat[:third]) + 1.0


def test_no_sinks_counts_at_postprocess(engine_factory):
    runner = _build(SizedFakeSource(n=10), engine_factory(), [])
    assert runner.run().frames_done == 10


