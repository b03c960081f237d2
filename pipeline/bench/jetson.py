"""Is this a Jetson, which L4T / JetPack, which power mode, are the clocks locked?

A benchmark number from a Jetson means little without its power mode (``nvpmodel``) and
whether ``jetson_clocks`` pinned the clocks to their maximum: with dynamic frequency scaling
the first seconds run slow and the numbers wander. Everything here reads files (the root is a
parameter, so tests use a fake tree) and runs ``nvpmodel -q`` / ``dpkg-query`` at most once,
with a timeout; nothing needs root.

- ``/etc/nv_tegra_release``: ``# R35 (release), REVISION: 4.1, GCID: ..., BOARD: ...``
- the ``nvidia-jetpack`` package version when installed, else a table from L4T releases
- ``/proc/device-tree/model``: the module (``NVIDIA Jetson Orin Nano Developer Kit``)
- ``nvpmodel -q``: ``NV Power Mode: MAXN`` and the mode id; without it
  ``/var/lib/nvpmodel/status`` (``pmode:0000``) and ``/etc/nvpmodel.conf``
- clocks: jetson_clocks sets each CPU's ``scaling_min_freq`` to its ``scaling_max_freq`` and
  the GPU's devfreq ``min_freq`` to ``max_freq``; that is what ``clocks_locked`` checks.
"""

import glob
import os
import re
import subprocess
from typing import Dict, Optional

__all__ = ["is_jetson", "jetson_info", "parse_nv_tegra_release", "jetpack_for_l4t",
           "parse_nvpmodel_query", "clocks_state"]

# L4T release -> JetPack (NVIDIA's JetPack archive); used when nvidia-jetpack is not installed
_L4T_TO_JETPACK = {
    "28.1": "3.1", "28.2": "3.2", "28.2.1": "3.3", "28.3": "3.3.1",
    "32.1": "4.2", "32.2": "4.2.1", "32.2.1": "4.2.2", "32.3.1": "4.3", "32.4.3": "4.4",
    "32.4.4": "4.4.1", "32.5": "4.5", "32.5.1": "4.5.1", "32.5.2": "4.5.1", "32.6.1": "4.6",
    "32.7.1": "4.6.1", "32.7.2": "4.6.2", "32.7.3": "4.6.3", "32.7.4": "4.6.4",
    "32.7.5": "4.6.5", "32.7.6": "4.6.6",
    "34.1": "5.0 DP", "34.1.1": "5.0.1 DP", "35.1": "5.0.2", "35.2.1": "5.1", "35.3.1": "5.1.1",
    "35.4.1": "5.1.2", "35.5": "5.1.3", "35.6": "5.1.4", "35.6.1": "5.1.5",
    "36.2": "6.0 DP", "36.3": "6.0", "36.4": "6.1", "36.4.3": "6.2", "36.4.4": "6.2.1",
}
_RELEASE = re.compile(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)", re.IGNORECASE)
_BOARD = re.compile(r"BOARD:\s*([^,\s]+)")


def _read(root: str, path: str) -> Optional[str]:
    try:
        with open(os.path.join(root, path.lstrip("/")), errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def is_jetson(root: str = "/") -> bool:
    """True on an NVIDIA Jetson (``/etc/nv_tegra_release`` exists)."""
    return os.path.isfile(os.path.join(root, "etc/nv_tegra_release"))


def parse_nv_tegra_release(text: str) -> Optional[dict]:
    """``{"l4t": "35.4.1", "board": "t186ref"}`` from ``/etc/nv_tegra_release``, or None."""
    m = _RELEASE.search(text or "")
    if not m:
        return None
    out = {"l4t": f"{m.group(1)}.{m.group(2).strip('.')}"}
    if b := _BOARD.search(text):
        out["board"] = b.group(1)
    return out


def jetpack_for_l4t(l4t: str) -> Optional[str]:
    """The JetPack release of an L4T version ("32.7.1" -> "4.6.1"), or None if unknown."""
    parts = l4t.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts = parts[:-1]  # "35.5.0" is listed as "35.5"
    return _L4T_TO_JETPACK.get(".".join(parts))


def parse_nvpmodel_query(text: str) -> Optional[dict]:
    """``{"name": "MAXN", "id": 0}`` from ``nvpmodel -q`` output, or None."""
    m = re.search(r"NV Power Mode:\s*(\S+)", text or "")
    if not m:
        return None
    out: dict = {"name": m.group(1)}
    rest = text[m.end():].split()
    if rest and rest[0].isdigit():
        out["id"] = int(rest[0])
    return out


def _run(cmd, timeout: float = 3.0) -> Optional[str]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _nvpmodel_from_files(root: str) -> Optional[dict]:
    status = _read(root, "/var/lib/nvpmodel/status") or ""
    m = re.search(r"pmode:\s*(\d+)", status)
    if not m:
        return None
    mode = int(m.group(1))
    out: dict = {"id": mode}
    conf = _read(root, "/etc/nvpmodel.conf") or ""
    for cid, name in re.findall(r"<\s*POWER_MODEL\s+ID=(\d+)\s+NAME=([^\s>]+)", conf):
        if int(cid) == mode:
            out["name"] = name
    return out


def _freq(root: str, path: str) -> Optional[int]:
    text = _read(root, path)
    return int(text.strip()) if text and text.strip().isdigit() else None


def clocks_state(root: str = "/") -> dict:
    """Whether CPU and GPU clocks are pinned at their maximum (what ``jetson_clocks`` does).

    Returns ``{"locked": bool or None, "cpus": {...}, "gpu": {...}}``; ``locked`` is None
    when no clock could be read.
    """
    cpus = {}
    for path in sorted(glob.glob(os.path.join(root, "sys/devices/system/cpu/cpu[0-9]*"))):
        rel = os.path.relpath(path, root)
        lo, hi = (_freq(root, f"{rel}/cpufreq/scaling_{k}_freq") for k in ("min", "max"))
        if lo is not None and hi is not None:
            cpus[os.path.basename(path)] = {"min_khz": lo, "max_khz": hi}
    gpu = {}
    for pattern in ("sys/devices/gpu.0/devfreq/*", "sys/devices/platform/gpu.0/devfreq/*",
                    "sys/devices/platform/*.ga10b/devfreq/*", "sys/devices/*.gv11b/devfreq/*",
                    "sys/devices/platform/*.gv11b/devfreq/*", "sys/devices/*.gp10b/devfreq/*"):
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            rel = os.path.relpath(path, root)
            lo, hi = (_freq(root, f"{rel}/{k}_freq") for k in ("min", "max"))
            if lo is not None and hi is not None:
                gpu = {"min_hz": lo, "max_hz": hi, "devfreq": rel}
                break
        if gpu:
            break
    pinned = [v["min_khz"] == v["max_khz"] for v in cpus.values()]
    if gpu:
        pinned.append(gpu["min_hz"] == gpu["max_hz"])
    return {"locked": all(pinned) if pinned else None, "cpus": cpus, "gpu": gpu}


def jetson_info(root: str = "/", run_tools: bool = True) -> Optional[dict]:
    """Everything known about this Jetson, or None when it is not one.

    Returns ``{"model", "l4t", "board", "jetpack", "jetpack_source", "nvpmodel",
    "clocks_locked", "clocks", "warnings"}`` (missing facts are None). ``run_tools=False``
    reads files only (tests).
    """
    if not is_jetson(root):
        return None
    release = parse_nv_tegra_release(_read(root, "/etc/nv_tegra_release") or "") or {}
    model = (_read(root, "/proc/device-tree/model") or "").strip("\x00\n ") or None
    jetpack, where = None, None
    if run_tools:
        version = _run(["dpkg-query", "-W", "-f=${Version}", "nvidia-jetpack"])
        if version and version.strip():
            jetpack, where = version.strip().split("-")[0].split("+")[0], "nvidia-jetpack package"
    if jetpack is None and release.get("l4t"):
        jetpack = jetpack_for_l4t(release["l4t"])
        where = "L4T release table" if jetpack else None
    power = parse_nvpmodel_query(_run(["nvpmodel", "-q"]) or "") if run_tools else None
    power = power or _nvpmodel_from_files(root)
    clocks = clocks_state(root)
    warnings = []
    if clocks["locked"] is False:
        warnings.append("jetson_clocks is not applied (clocks scale with load): run "
                        "`sudo jetson_clocks` before benchmarking for stable numbers")
    if power is None:
        warnings.append("the nvpmodel power mode could not be read")
    return {"model": model, "l4t": release.get("l4t"), "board": release.get("board"),
            "jetpack": jetpack, "jetpack_source": where, "nvpmodel": power,
            "clocks_locked": clocks["locked"], "clocks": clocks, "warnings": warnings}
