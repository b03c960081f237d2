"""CPU and memory use of this process and of the machine (psutil, plus ``/proc`` for the peak).

``CpuSnapshot`` holds each core's busy and total CPU time (``psutil.cpu_times(percpu=True)``)
and this process's CPU time; the difference of two snapshots gives per-core busy fractions, the
cores this process used and the cores other processes used meanwhile (a busy machine makes
every number worse, and the report says so). ``ResourceSampler`` samples the resident set size
and the pipeline's frame count in a background thread, so memory growth per frame can be
fitted over the steady state. ``reset_peak_rss`` / ``peak_rss_bytes`` give the peak of one run:
psutil has no resettable peak, so these read Linux's ``VmHWM`` and reset it through
``/proc/self/clear_refs`` (elsewhere the peak is the process's lifetime ``ru_maxrss``).
"""

import os
import resource
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

import numpy as np
import psutil

__all__ = ["CpuSnapshot", "cpu_usage", "rss_bytes", "peak_rss_bytes", "reset_peak_rss",
           "ResourceSampler", "memory_growth", "available_cores"]

# CPU time that is not idle; iowait counts as idle (the core could run other work meanwhile).
# Fields a platform does not have (irq, softirq, steal outside Linux) count as 0.
_BUSY = ("user", "nice", "system", "irq", "softirq", "steal")
_IDLE = ("idle", "iowait")


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _per_core_times() -> Optional[List[Tuple[float, float]]]:
    """``[(busy, total), ...]`` seconds per core, in core order; None if the OS won't say."""
    try:
        cores = psutil.cpu_times(percpu=True)
    except (OSError, psutil.Error):
        return None
    out = []
    for t in cores:
        busy = sum(getattr(t, k, 0.0) for k in _BUSY)
        out.append((busy, busy + sum(getattr(t, k, 0.0) for k in _IDLE)))
    return out or None


def _process_cpu_s() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


@dataclass
class CpuSnapshot:
    """CPU counters at one moment: ``CpuSnapshot.take()``; subtract with ``cpu_usage``.

    ``cores``: per core ``(busy, total)`` CPU seconds, or None where they are unknown.
    """

    wall: float
    process_cpu: float
    cores: Optional[List[Tuple[float, float]]] = field(default=None)

    @classmethod
    def take(cls) -> "CpuSnapshot":
        return cls(time.monotonic(), _process_cpu_s(), _per_core_times())


def cpu_usage(start: CpuSnapshot, end: CpuSnapshot) -> dict:
    """What happened between two snapshots.

    Returns ``{"wall_s", "process_cores", "per_core_busy", "system_cores", "other_cores"}``:
    the cores' worth of CPU this process used (1.5 = one and a half cores busy on average),
    each core's busy fraction (everyone's work), their sum, and the part of it that was not
    this process (other jobs on the machine). The per-core fields are absent when the per-core
    times are unknown or the cores changed (a CPU went offline) between the snapshots.
    """
    wall = max(end.wall - start.wall, 1e-9)
    out = {"wall_s": round(wall, 3),
           "process_cores": round((end.process_cpu - start.process_cpu) / wall, 3)}
    if start.cores and end.cores and len(start.cores) == len(end.cores):
        busy = []
        for (b0, t0), (b1, t1) in zip(start.cores, end.cores):
            busy.append(round((b1 - b0) / (t1 - t0), 3) if t1 > t0 else 0.0)
        out["per_core_busy"] = busy
        out["system_cores"] = round(sum(busy), 3)
        out["other_cores"] = round(max(0.0, sum(busy) - out["process_cores"]), 3)
    return out


def rss_bytes() -> int:
    """This process's resident set size now."""
    return psutil.Process().memory_info().rss


def _vm_hwm_bytes() -> Optional[int]:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss_bytes() -> int:
    """This process's peak resident set size since ``reset_peak_rss`` (Linux ``VmHWM``), or
    since it started (``ru_maxrss``) where there is no ``/proc``."""
    peak = _vm_hwm_bytes()
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return peak


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def memory_growth(frames: np.ndarray, rss: np.ndarray, skip_frames: int) -> Optional[dict]:
    """Least-squares RSS growth over the samples taken after ``skip_frames`` frames.

    Returns ``{"bytes_per_frame", "frames", "delta_bytes"}`` (slope, frames spanned, RSS at
    the last sample minus the first) or None with fewer than 3 usable samples or frames.
    """
    keep = frames >= skip_frames
    f, r = frames[keep].astype(np.float64), rss[keep].astype(np.float64)
    if len(f) < 3 or f[-1] - f[0] < 3:
        return None
    slope = float(np.polyfit(f, r, 1)[0])
    return {"bytes_per_frame": round(slope, 1), "frames": int(f[-1] - f[0]),
            "delta_bytes": int(r[-1] - r[0])}


class ResourceSampler:
    """Samples ``(time, frames, rss)`` every ``interval`` s in a daemon thread.

    Args:
        frames: callable returning the frames finished so far (read from another thread;
            an int attribute read is atomic in CPython).
        interval: seconds between samples.
        capacity: samples kept (preallocated; later samples are dropped).

    Use as a context manager around a run; ``arrays()`` returns the samples.
    """

    def __init__(self, frames: Callable[[], int], interval: float = 0.05,
                 capacity: int = 100_000):
        self.frames = frames
        self.interval = interval
        self._process = psutil.Process()
        self._t = np.zeros(capacity)
        self._f = np.zeros(capacity, np.int64)
        self._r = np.zeros(capacity, np.int64)
        self._n = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _sample(self) -> None:
        if self._n >= len(self._t):
            return
        rss = self._process.memory_info().rss
        i = self._n
        self._t[i], self._f[i], self._r[i] = time.monotonic(), self.frames(), rss
        self._n += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> "ResourceSampler":
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="lanecam-bench-sampler",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._sample()

    def __enter__(self) -> "ResourceSampler":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def arrays(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of (times, frames, rss bytes) sampled so far."""
        n = self._n
        return self._t[:n].copy(), self._f[:n].copy(), self._r[:n].copy()

    def samples(self) -> List[Tuple[float, int, int]]:
        t, f, r = self.arrays()
        return list(zip(t.tolist(), f.tolist(), r.tolist()))
