"""Helpers for benchmark tests: tiny models (generated, never binaries) and a small input."""

import importlib.util
from pathlib import Path

# small and quick to render; preloaded (replayed) by default like the real default source
SMALL_SYNTHETIC = "synthetic://?width=160&height=96&fps=25&seed=1"


def tinymodels():
    """``tests/engines/tinymodels.py`` loaded by path (tests/engines has no ``__init__``: it
    would shadow the real ``engines`` package)."""
    path = Path(__file__).resolve().parents[1] / "engines" / "tinymodels.py"
    spec = importlib.util.spec_from_file_location("lanecam_test_tinymodels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
