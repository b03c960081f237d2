"""CPU and memory accounting (faked per-core times, and the real process)."""

import os
import time
from collections import namedtuple

import numpy as np
import psutil
import pytest

from lanecam.pipeline.bench.resources import (CpuSnapshot, ResourceSampler, available_cores,
                                              cpu_usage, memory_growth, peak_rss_bytes,
                                              reset_peak_rss, rss_bytes)

# the Linux fields of psutil.cpu_times(); macOS has no irq, softirq, steal, iowait
LinuxTimes = namedtuple("LinuxTimes", "user nice system idle iowait irq softirq steal")
MacTimes = namedtuple("MacTimes", "user nice system idle")


def _snapshot(monkeypatch, cores, wall, process_cpu):
    monkeypatch.setattr(psutil, "cpu_times", lambda percpu=False: list(cores))
    snap = CpuSnapshot.take()
    snap.wall, snap.process_cpu = wall, process_cpu
    return snap


def test_cpu_usage_per_core_and_other_processes(monkeypatch):
    a = _snapshot(monkeypatch, [LinuxTimes(100, 0, 0, 100, 0, 0, 0, 0),
                                LinuxTimes(100, 0, 0, 100, 0, 0, 0, 0)], 0.0, 0.0)
    b = _snapshot(monkeypatch, [LinuxTimes(180, 5, 0, 110, 0, 3, 1, 1),
                                LinuxTimes(130, 0, 20, 130, 20, 0, 0, 0)], 2.0, 1.0)
    u = cpu_usage(a, b)  # this process used 0.5 cores over 2 s
    assert u["per_core_busy"] == [0.9, 0.5]      # cpu1: iowait counts as idle
    assert u["process_cores"] == 0.5
    assert u["system_cores"] == 1.4
    assert u["other_cores"] == pytest.approx(0.9)


def test_cpu_usage_without_the_linux_only_fields(monkeypatch):
    a = _snapshot(monkeypatch, [MacTimes(10, 0, 0, 10)], 0.0, 0.0)
    b = _snapshot(monkeypatch, [MacTimes(13, 0, 1, 16)], 1.0, 0.2)
    assert cpu_usage(a, b)["per_core_busy"] == [0.4]


def test_cpu_usage_without_per_core_times(monkeypatch):
    def refuse(percpu=False):
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil, "cpu_times", refuse)
    u = cpu_usage(CpuSnapshot.take(), CpuSnapshot.take())
    assert "per_core_busy" not in u and "process_cores" in u


def test_a_core_going_offline_drops_the_per_core_fields():
    a = CpuSnapshot(0.0, 0.0, [(1.0, 2.0), (1.0, 2.0)])
    b = CpuSnapshot(1.0, 0.5, [(2.0, 4.0)])
    u = cpu_usage(a, b)
    assert "per_core_busy" not in u and u["process_cores"] == 0.5


def test_process_cpu_time_is_this_process():
    a = CpuSnapshot.take()
    t_end = time.process_time() + 0.2
    while time.process_time() < t_end:   # burn 0.2 s of CPU
        pass
    b = CpuSnapshot.take()
    assert b.process_cpu - a.process_cpu >= 0.15
    assert b.cores and all(0 <= busy <= total for busy, total in b.cores)


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
    if reset_peak_rss():                  # the peak restarts from about the current RSS
        assert peak_rss_bytes() < rss + 64 * 2**20
    count = [0]
    with ResourceSampler(lambda: count[0], interval=0.01) as s:
        for i in range(5):
            count[0] = i
            time.sleep(0.02)
    t, f, r = s.arrays()
    assert len(t) >= 3 and (r > 0).all() and (np.diff(t) >= 0).all()
    assert f[-1] == 4
    assert available_cores() >= 1
