"""``tegrastats`` on a Jetson: parse its lines (every JetPack's format) and sample it during a run.

tegrastats prints one line per interval. The fields changed over the JetPack releases, and a
parser must take all of them:

- L4T 28 (JetPack 3):      ``cpu [17%,13%,29%,5%]@408 EMC 1%@408 APE 25 GR3D 3%@76``
- L4T 32 (JetPack 4):      ``CPU [24%@1224,off,...] EMC_FREQ 0%@1600 GR3D_FREQ 0%@76 ...
  CPU@25C GPU@23.5C ... POM_5V_IN 2545/2547`` (Nano) or ``VDD_IN 5297/5297`` (Xavier):
  power in mW without a unit, current/average
- L4T 35/36 (JetPack 5/6): a ``MM-DD-YYYY HH:MM:SS`` timestamp first, ``GR3D_FREQ 0%@[0,0]``
  (one frequency per GPC) or just ``GR3D_FREQ 1%``, lower-case temperatures
  (``cpu@62.843C tj@62.8C``), power with units (``VDD_IN 3913mW/3922mW``)

``parse_tegrastats`` returns a dict with the fields it found (unknown ones are ignored);
sensors reading -256C (absent on that module) are dropped. ``TegrastatsSampler`` runs
``tegrastats --interval MS`` in a subprocess and parses its lines in a thread;
``summarize_tegrastats`` reduces the samples to means and maxima for the report.
"""

import re
import shutil
import subprocess
import threading
import time
from typing import Dict, List, Optional

import numpy as np

__all__ = ["parse_tegrastats", "summarize_tegrastats", "TegrastatsSampler", "find_tegrastats"]

_TIMESTAMP = re.compile(r"^(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2})\s+")
_RAM = re.compile(r"\bRAM (\d+)/(\d+)MB")
_SWAP = re.compile(r"\bSWAP (\d+)/(\d+)MB")
# "CPU [24%@1224,off]" (JetPack 4+) or "cpu [17%,13%]@408" (JetPack 3: one frequency)
_CPU = re.compile(r"\bCPU \[([^\]]*)\](?:@(\d+))?", re.IGNORECASE)
_EMC = re.compile(r"\bEMC(?:_FREQ)? (\d+)%(?:@(\d+))?")
# "GR3D_FREQ 3%@76", "GR3D_FREQ 0%@[0,0]", "GR3D_FREQ 1%", old "GR3D 3%@76"
_GR3D = re.compile(r"\bGR3D(?:_FREQ)? (\d+)%(?:@(\[[\d,]*\]|\d+))?")
_GR3D2 = re.compile(r"\bGR3D2_FREQ (\d+)%")
_TEMP = re.compile(r"\b([A-Za-z][A-Za-z0-9_]*)@(-?\d+(?:\.\d+)?)C\b")
# rails: "VDD_IN 3913mW/3922mW", "POM_5V_IN 2545/2547", "VDD_IN 5297/5297"
_RAIL = re.compile(r"\b([A-Z][A-Z0-9_]*) (\d+)(?:mW)?/(\d+)(?:mW)?(?=\s|$)")
_NOT_RAILS = {"RAM", "SWAP", "IRAM"}
_ABSENT_SENSOR_C = -256.0


def _freqs(text: Optional[str]) -> List[int]:
    if not text:
        return []
    return [int(v) for v in text.strip("[]").split(",") if v.strip().isdigit()]


def parse_tegrastats(line: str) -> Dict:
    """One tegrastats line as a dict; fields absent from the line are absent from the dict.

    Keys: ``timestamp`` (str), ``ram_used_mb``/``ram_total_mb``, ``swap_used_mb``/
    ``swap_total_mb``, ``cpu_load_pct`` (list, None for an offline core), ``cpu_freq_mhz``
    (list), ``emc_pct``/``emc_freq_mhz``, ``gpu_load_pct``/``gpu_freq_mhz`` (list: one per
    GPC on Orin), ``temps_c`` ({sensor: C}), ``power_mw`` ({rail: current mW}),
    ``power_avg_mw`` ({rail: average mW}).
    """
    line = line.strip()
    out: Dict = {}
    m = _TIMESTAMP.match(line)
    if m:
        out["timestamp"] = m.group(1)
    if m := _RAM.search(line):
        out["ram_used_mb"], out["ram_total_mb"] = int(m.group(1)), int(m.group(2))
    if m := _SWAP.search(line):
        out["swap_used_mb"], out["swap_total_mb"] = int(m.group(1)), int(m.group(2))
    if m := _CPU.search(line):
        loads, freqs = [], []
        for core in m.group(1).split(","):
            core = core.strip()
            if not core or core == "off":
                loads.append(None)
                continue
            pct, _, mhz = core.partition("@")
            loads.append(int(pct.rstrip("%")) if pct.rstrip("%").isdigit() else None)
            if mhz.isdigit():
                freqs.append(int(mhz))
        if m.group(2):
            freqs = [int(m.group(2))] * sum(v is not None for v in loads)
        out["cpu_load_pct"] = loads
        if freqs:
            out["cpu_freq_mhz"] = freqs
    if m := _EMC.search(line):
        out["emc_pct"] = int(m.group(1))
        if m.group(2):
            out["emc_freq_mhz"] = int(m.group(2))
    if m := _GR3D.search(line):
        out["gpu_load_pct"] = int(m.group(1))
        if freqs := _freqs(m.group(2)):
            out["gpu_freq_mhz"] = freqs
    if m := _GR3D2.search(line):
        out["gpu2_load_pct"] = int(m.group(1))
    temps = {name: float(val) for name, val in _TEMP.findall(line)
             if float(val) > _ABSENT_SENSOR_C}
    if temps:
        out["temps_c"] = temps
    power, avg = {}, {}
    for name, cur, mean in _RAIL.findall(line):
        if name in _NOT_RAILS:
            continue
        power[name], avg[name] = int(cur), int(mean)
    if power:
        out["power_mw"], out["power_avg_mw"] = power, avg
    return out


def _stats(values) -> Optional[dict]:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    a = np.asarray(vals, np.float64)
    return {"mean": round(float(a.mean()), 1), "max": round(float(a.max()), 1)}


def summarize_tegrastats(samples: List[Dict]) -> dict:
    """Means and maxima over parsed samples: GPU and EMC load, CPU load, temperatures, power."""
    out: dict = {"samples": len(samples)}
    for key in ("gpu_load_pct", "gpu2_load_pct", "emc_pct", "ram_used_mb"):
        if s := _stats(x.get(key) for x in samples):
            out[key] = s
    online = ([v for v in x.get("cpu_load_pct") or [] if v is not None] for x in samples)
    cpu = [float(np.mean(loads)) for loads in online if loads]
    if s := _stats(cpu):
        out["cpu_load_pct"] = s
    if s := _stats(max(x["gpu_freq_mhz"]) for x in samples if x.get("gpu_freq_mhz")):
        out["gpu_freq_mhz"] = s
    for group in ("temps_c", "power_mw"):
        names = sorted({n for x in samples for n in x.get(group, {})})
        if names:
            out[group] = {n: _stats(x.get(group, {}).get(n) for x in samples) for n in names}
    return out


def find_tegrastats() -> Optional[str]:
    """Path of the tegrastats binary (on PATH or in L4T's usual places), or None."""
    found = shutil.which("tegrastats")
    if found:
        return found
    for path in ("/usr/bin/tegrastats", "/usr/sbin/tegrastats", "/home/nvidia/tegrastats"):
        if shutil.which(path):
            return path
    return None


class TegrastatsSampler:
    """Runs ``tegrastats --interval MS`` during a run and keeps every parsed line.

    Args:
        binary: the tegrastats path (``find_tegrastats()``).
        interval_ms: sampling interval.

    A context manager: the subprocess starts on enter and is terminated (then killed, if it
    does not stop) on exit, after its first line if none came yet. ``samples`` holds the
    parsed lines; ``error`` says why there are none (tegrastats missing, not permitted,
    exited early).
    """

    def __init__(self, binary: str, interval_ms: int = 500):
        self.binary = binary
        self.interval_ms = int(interval_ms)
        self.samples: List[Dict] = []
        self.error: Optional[str] = None
        self._proc: Optional[subprocess.Popen] = None
        self._thread: Optional[threading.Thread] = None

    def _reader(self) -> None:
        for line in self._proc.stdout:
            parsed = parse_tegrastats(line)
            if parsed:
                self.samples.append(parsed)

    def __enter__(self) -> "TegrastatsSampler":
        try:
            self._proc = subprocess.Popen([self.binary, "--interval", str(self.interval_ms)],
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          text=True, bufsize=1)
        except OSError as exc:
            self.error = f"could not start {self.binary}: {exc}"
            return self
        self._thread = threading.Thread(target=self._reader, name="lanecam-bench-tegrastats",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._proc is None:
            return
        # a run shorter than the interval still gets one sample (tegrastats prints its first
        # line after one interval)
        deadline = time.monotonic() + 2 * self.interval_ms / 1000 + 1.0
        while not self.samples and self._proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._proc.poll() is not None and not self.samples:
            self.error = f"{self.binary} exited with status {self._proc.returncode}"
        self._proc.terminate()
        try:
            self._proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=2.0)
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def summary(self) -> dict:
        """``summarize_tegrastats`` of the samples, plus ``error`` when there were none."""
        out = summarize_tegrastats(self.samples)
        if self.error and not self.samples:
            out["error"] = self.error
        return out
