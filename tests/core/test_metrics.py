"""The one latency summary: keys, units, percentiles, and the sliding window of LatencyStats."""

import pytest

from lanecam.pipeline.bench.stats import latency_summary as bench_summary
from lanecam.pipeline.metrics import LATENCY_KEYS, LatencyStats, Metrics, latency_summary


def test_summary_is_in_milliseconds_with_the_shared_keys():
    s = latency_summary([0.001, 0.002, 0.003, 0.004])
    assert tuple(s) == LATENCY_KEYS
    assert s == {"count": 4, "mean_ms": 2.5, "p50_ms": 2.5, "p95_ms": pytest.approx(3.85),
                 "p99_ms": pytest.approx(3.97), "max_ms": 4.0}


def test_empty_summary_has_only_a_count():
    assert latency_summary([]) == {"count": 0}


def test_bench_uses_the_same_function():
    assert bench_summary is latency_summary


def test_stats_summarise_the_window_but_count_everything():
    stats = LatencyStats(window=4)
    for ms in (100, 100, 1, 2, 3, 4):
        stats.record(ms / 1e3)
    s = stats.summary()
    assert s["count"] == 6                    # every sample recorded
    assert s["max_ms"] == 4.0 and s["mean_ms"] == 2.5  # the two 100 ms left the window
    assert stats.summary(2)["p50_ms"] == 3.5


def test_run_summary_and_perf_line_use_the_p50_key():
    m = Metrics(window=8)
    m.stage("infer").record(0.005)
    assert m.summary()["stages"]["infer"]["p50_ms"] == 5.0
    assert "infer=5.0" in m.perf_line()
