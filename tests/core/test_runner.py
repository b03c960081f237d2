"""Runner with fake stages: failures, lossless file mode, bounded live latency, Ctrl-C."""

import _thread
import signal
import threading
import time

import numpy as np
import pytest

from lanecam.pipeline.errors import PipelineError
from .fakes import FakeSource, build


def _lanecam_threads():
    return [t for t in threading.enumerate() if t.name.startswith("lanecam-")]


@pytest.mark.parametrize("stage", ["source", "preprocess", "infer", "postprocess", "sink"])
@pytest.mark.parametrize("live", [False, True])
def test_exception_in_any_stage_stops_everything_and_names_it(stage, live):
    # an endless source: only the failure can end this run
    runner = build(FakeSource(n=None, live=live, fps=200), fail={stage: 5})
    t0 = time.monotonic()
    with pytest.raises(PipelineError) as info:
        runner.run()
    assert time.monotonic() - t0 < 2.0
    assert info.value.stage == stage
    assert "injected" in str(info.value)
    assert isinstance(info.value.__cause__, (ValueError, RuntimeError))
    assert _lanecam_threads() == []
    # teardown ran in every stage (sinks closed their files), the source was closed
    assert all(s.torn_down for s in runner.stages[1:])
    assert runner.stages[0].source.closed
    seen = runner.stages[-1].seen
    if live:
        assert seen == sorted(seen) and set(seen) <= set(range(5))
    else:
        # the frames that got past the failure before it still reached the sink
        assert seen == [0, 1, 2, 3, 4]


def test_file_mode_is_lossless_and_ordered_with_a_slow_sink():
    runner = build(FakeSource(n=60), delays={"sink": 0.004})
    metrics = runner.run()
    sink = runner.stages[-1]
    assert sink.seen == list(range(60))
    assert metrics.frames_done == 60 and metrics.dropped == 0
    assert runner.pool.free_count == runner.pool.size  # every slot came back
    assert _lanecam_threads() == []


def test_live_mode_keeps_latency_bounded_and_counts_drops():
    fps = 30.0
    period = 1.0 / fps
    slow = 1.5 * period  # the infer stage cannot keep up with the camera
    runner = build(FakeSource(n=150, live=True, fps=fps), delays={"infer": slow})
    metrics = runner.run()
    lat = metrics.end_to_end.recent() / period  # in frame periods
    assert metrics.dropped > 20  # it could only process about 2 of 3 frames
    seen = runner.stages[-1].seen
    assert seen == sorted(seen)  # drops, never reordering
    # bounded: the slow stage plus at most about one period of waiting, not a growing queue
    assert np.percentile(lat, 95) <= 4.0
    third = len(lat) // 3
    assert np.median(lat[-third:]) <= np.median(lat[:third]) + 1.0
    assert _lanecam_threads() == []


@pytest.fixture
def sigint_raises():
    """Python's own SIGINT handler for the test: a shell that starts pytest in the background
    makes it ignore SIGINT, and then ``interrupt_main`` does nothing (the run would never end)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_finishes_the_frames_in_flight_and_tears_down(sigint_raises):
    # a bounded source, so that a lost interrupt fails the test instead of hanging it
    runner = build(FakeSource(n=2000), delays={"sink": 0.01})
    threading.Timer(0.3, _thread.interrupt_main).start()
    metrics = runner.run()
    sink = runner.stages[-1]
    assert runner.interrupted
    assert len(sink.seen) > 5 and sink.seen == list(range(len(sink.seen)))
    assert sink.torn_down
    # everything read was written: the graceful stop drained the rings
    assert runner.stages[0].frames_read == len(sink.seen) == metrics.frames_done
    assert _lanecam_threads() == []
