"""The machine a benchmark ran on: CPU, cores, memory, GPU, OS, library versions, Jetson facts.

Library versions come from the installed distributions' metadata (``importlib.metadata``), so
nothing heavy is imported to learn them (TensorRT is not loaded just to print its version).
"""

import os
import platform
import shutil
import subprocess
import sys
from typing import Dict, Optional

from lanecam.pipeline.bench.jetson import jetson_info
from lanecam.pipeline.bench.resources import available_cores

__all__ = ["machine_info", "library_versions", "cpu_model", "gpu_models", "cpu_governor"]

# distribution names to report, first one installed wins for each label
_LIBRARIES = {
    "lanecam": ("lanecam",),
    "numpy": ("numpy",),
    "opencv": ("opencv-python-headless", "opencv-python", "opencv-contrib-python",
               "opencv-contrib-python-headless"),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino"),
    "tensorrt": ("tensorrt", "tensorrt-cu12", "tensorrt-cu11", "tensorrt_libs"),
    "pycuda": ("pycuda",),
    "av": ("av",),
}


def _dist_version(names) -> Optional[str]:
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def library_versions() -> Dict[str, Optional[str]]:
    """Versions of the libraries that shape the numbers (None when not installed).

    OpenCV is also asked directly when no wheel is installed (a Jetson's system OpenCV), and
    TensorRT likewise from its Debian-installed Python module metadata if present.
    """
    out = {"python": platform.python_version()}
    for label, names in _LIBRARIES.items():
        out[label] = _dist_version(names)
    if out["opencv"] is None and "cv2" in sys.modules:
        out["opencv"] = getattr(sys.modules["cv2"], "__version__", None)
    return out


def cpu_model(proc: str = "/proc") -> str:
    """The CPU's model name (``/proc/cpuinfo``; ARM boards report their part number)."""
    try:
        with open(os.path.join(proc, "cpuinfo")) as fh:
            text = fh.read()
    except OSError:
        return platform.processor() or platform.machine()
    fields: Dict[str, str] = {}
    for line in text.splitlines():
        key, sep, val = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = val.strip()
    for key in ("model name", "Model", "Hardware", "cpu model", "Processor"):
        if fields.get(key):
            return fields[key]
    if "CPU part" in fields:
        return f"ARM CPU part {fields['CPU part']} ({platform.machine()})"
    return platform.processor() or platform.machine()


def cpu_governor(sysfs: str = "/sys") -> Optional[str]:
    """The cpufreq governor of CPU 0 ("performance", "schedutil"...), or None."""
    path = os.path.join(sysfs, "devices/system/cpu/cpu0/cpufreq/scaling_governor")
    try:
        with open(path) as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def gpu_models(jetson: Optional[dict] = None):
    """GPU names: ``nvidia-smi`` on a desktop, the module name on a Jetson, else []."""
    if jetson:
        return [jetson.get("model") or "Jetson integrated GPU"]
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        done = subprocess.run([smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    gpus = []
    for line in done.stdout.splitlines():
        name, _, driver = line.partition(",")
        if name.strip():
            gpus.append(f"{name.strip()} (driver {driver.strip()})" if driver.strip()
                        else name.strip())
    return gpus


def _mem_total_mb() -> Optional[int]:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def machine_info(run_tools: bool = True) -> dict:
    """Everything about this machine the report needs (see the module docstring)."""
    jetson = jetson_info(run_tools=run_tools)
    uname = platform.uname()
    return {
        "hostname": uname.node,
        "os": f"{uname.system} {uname.release}",
        "arch": uname.machine,
        "cpu": cpu_model(),
        "cores": available_cores(),
        "logical_cpus": os.cpu_count(),
        "cpu_governor": cpu_governor(),
        "memory_mb": _mem_total_mb(),
        "gpus": gpu_models(jetson) if run_tools or jetson else [],
        "libraries": library_versions(),
        "jetson": jetson,
    }
