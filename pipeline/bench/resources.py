"""CPU and memory use of this process and of the machine, from ``/proc`` (no psutil).

``CpuSnapshot`` reads ``/proc/stat`` (per-core busy and idle jiffies) and this process's CPU
time; the difference of two snapshots gives per-core busy fractions, the cores this process
used and the cores other processes used meanwhile (a busy machine makes every number worse,
and the report says so). ``ResourceSampler`` samples the resident set size (``VmRSS``) and the
pipeline's frame count in a background thread, so memory growth per frame can be fitted over
the steady state; ``reset_peak_rss`` / ``peak_rss_bytes`` give the peak of one run
(``VmHWM``, reset through ``/proc/self/clear_refs`` where the kernel allows it).

On a system without ``/proc`` (macOS) the functions return None and the report leaves the
fields out; nothing here raises for a missing file.
"""

import os
import resource
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

__all__ = ["CpuSnapshot", "cpu_usage", "rss_bytes", "peak_rss_bytes", "reset_peak_rss",
           "ResourceSampler", "memory_growth", "available_cores"]

PROC = "/proc"


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def _per_core_jiffies(proc: str = PROC) -> Optional[Dict[str, Tuple[int, int]]]:
    """``{"cpu0": (busy, total), ...}`` from ``/proc/stat`` (iowait counts as idle)."""
    text = _read(os.path.join(proc, "stat"))
    if text is None:
        return None
    cores = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or not parts[0].startswith("cpu") or parts[0] == "cpu":
            continue
        vals = [int(v) for v in parts[1:9]]
        vals += [0] * (8 - len(vals))
        user, nice, system, idle, iowait, irq, softirq, steal = vals
        busy = user + nice + system + irq + softirq + steal
        cores[parts[0]] = (busy, busy + idle + iowait)
    return cores


@dataclass
class CpuSnapshot:
    """CPU counters at one moment: ``CpuSnapshot.take()``; subtract with ``cpu_usage``."""

    wall: float
    process_cpu: float
    cores: Optional[Dict[str, Tuple[int, int]]] = field(default=None)

    @classmethod
    def take(cls, proc: str = PROC) -> "CpuSnapshot":
        t = os.times()
        return cls(time.monotonic(), t.user + t.system, _per_core_jiffies(proc))


def cpu_usage(start: CpuSnapshot, end: CpuSnapshot) -> dict:
    """What happened between two snapshots.

    Returns ``{"wall_s", "process_cores", "per_core_busy", "system_cores", "other_cores"}``:
    the cores' worth of CPU this process used (1.5 = one and a half cores busy on average),
    each core's busy fraction (everyone's work), their sum, and the part of it that was not
    this process (other jobs on the machine). The per-core fields are absent without
    ``/proc/stat``.
    """
    wall = max(end.wall - start.wall, 1e-9)
    out = {"wall_s": round(wall, 3),
           "process_cores": round((end.process_cpu - start.process_cpu) / wall, 3)}
    if start.cores and end.cores:
        busy = []
        for name in sorted(end.cores, key=lambda n: int(n[3:]) if n[3:].isdigit() else 0):
            if name not in start.cores:
                continue
            db = end.cores[name][0] - start.cores[name][0]
            dt = end.cores[name][1] - start.cores[name][1]
            busy.append(round(db / dt, 3) if dt > 0 else 0.0)
        out["per_core_busy"] = busy
        out["system_cores"] = round(sum(busy), 3)
        out["other_cores"] = round(max(0.0, sum(busy) - out["process_cores"]), 3)
    return out


def _status_kb(key: str, proc: str = PROC) -> Optional[int]:
    text = _read(os.path.join(proc, "self", "status"))
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def rss_bytes(proc: str = PROC) -> Optional[int]:
    """This process's resident set size now (``VmRSS``), or None."""
    kb = _status_kb("VmRSS", proc)
    return kb * 1024 if kb is not None else None


def peak_rss_bytes(proc: str = PROC) -> int:
    """This process's peak resident set size (``VmHWM``; ``ru_maxrss`` without ``/proc``)."""
    kb = _status_kb("VmHWM", proc)
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb * 1024


def reset_peak_rss(proc: str = PROC) -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        with open(os.path.join(proc, "self", "clear_refs"), "w") as fh:
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
                 capacity: int = 100_000, proc: str = PROC):
        self.frames = frames
        self.interval = interval
        self.proc = proc
        self._t = np.zeros(capacity)
        self._f = np.zeros(capacity, np.int64)
        self._r = np.zeros(capacity, np.int64)
        self._n = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _sample(self) -> None:
        rss = rss_bytes(self.proc)
        if rss is None or self._n >= len(self._t):
            return
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
