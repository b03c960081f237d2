"""CPU and memory accounting from /proc (fake trees and the real one)."""

import os
import time

import numpy as np
import pytest

from lanecam.pipeline.bench.resources import (CpuSnapshot, ResourceSampler, available_cores, cpu_usage,
                                      memory_growth, peak_rss_bytes, rss_bytes)

STAT = """cpu  {t0} 0 0 {i0} 0 0 0 0 0 0
cpu0 {a0} 0 0 {ai} 0 0 0 0 0 0
cpu1 {b0} 0 {bs} {bi} {bw} 0 0 0 0 0
intr 1 2 3
"""


def _proc(tmp_path, **v):
    (tmp_path / "stat").write_text(STAT.format(t0=0, i0=0, **v))
    return CpuSnapshot.take(str(tmp_path))


def test_cpu_usage_per_core_and_other_processes(tmp_path):
    a = _proc(tmp_path, a0=100, ai=100, b0=100, bs=0, bi=100, bw=0)
    b = _proc(tmp_path, a0=190, ai=110, b0=130, bs=20, bi=130, bw=20)
    # pretend this process used 0.5 cores over 2 s
    a.wall, a.process_cpu, b.wall, b.process_cpu = 0.0, 0.0, 2.0, 1.0
    u = cpu_usage(a, b)
    assert u["per_core_busy"] == [0.9, 0.5]      # cpu1: iowait counts as idle
    assert u["process_cores"] == 0.5
    assert u["system_cores"] == 1.4
    assert u["other_cores"] == pytest.approx(0.9)


def test_cpu_usage_without_proc_stat(tmp_path):
    a, b = CpuSnapshot.take(str(tmp_path)), CpuSnapshot.take(str(tmp_path))
    u = cpu_usage(a, b)
    assert "per_core_busy" not in u and "process_cores" in u


def test_memory_growth_slope_over_the_steady_state():
    frames = np.arange(0, 200, 10)
    flat = np.where(frames < 50, frames * 10_000, 500_000) + 100_000_000
    g = memory_growth(frames, flat, skip_frames=50)
    assert g["bytes_per_frame"] == pytest.approx(0.0, abs=1e-6)
    leak = 100_000_000 + frames * 2048
    assert memory_growth(frames, leak, 50)["bytes_per_frame"] == pytest.approx(2048.0)
    assert memory_growth(frames[:2], leak[:2], 0) is None


def test_real_process_memory_and_sampler():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc")
    # RSS first: other threads (TensorFlow's, from earlier tests) may grow it between the reads,
    # and the peak read afterwards includes every earlier RSS
    rss = rss_bytes()
    assert rss > 0 and peak_rss_bytes() >= rss
    count = [0]
    with ResourceSampler(lambda: count[0], interval=0.01) as s:
        for i in range(5):
            count[0] = i
            time.sleep(0.02)
    t, f, r = s.arrays()
    assert len(t) >= 3 and (r > 0).all() and (np.diff(t) >= 0).all()
    assert f[-1] == 4
    assert available_cores() >= 1
