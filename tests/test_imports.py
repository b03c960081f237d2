"""Every runtime module imports without TensorFlow, and ``lanecam --help`` works."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

RUNTIME_PACKAGES = ["lanecam.pipeline", "lanecam.engines", "lanecam.calibration"]


def _modules(pkg_name):
    pkg = importlib.import_module(pkg_name)
    yield pkg_name
    for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg_name + "."):
        if info.name.endswith("__main__"):
            continue
        yield info.name


@pytest.mark.smoke
def test_runtime_never_imports_tensorflow():
    code = (
        "import sys, importlib, pkgutil\n"
        f"for top in {RUNTIME_PACKAGES!r}:\n"
        "    pkg = importlib.import_module(top)\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, prefix=top + '.'):\n"
        "        if not info.name.endswith('__main__'):\n"
        "            importlib.import_module(info.name)\n"
        "bad = [m for m in ('tensorflow', 'keras', 'tf_keras', 'tensorrt', 'pycuda') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"runtime imported heavy modules: {out.stdout}"


@pytest.mark.smoke
def test_cli_help_works():
    out = subprocess.run([sys.executable, "-m", "lanecam", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "lanecam" in out.stdout
