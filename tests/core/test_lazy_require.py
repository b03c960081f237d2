"""``require``: a missing library names its extra; a stop signal during the import stays a stop."""

import signal

import pytest

from lanecam.pipeline import lazy, signals
from lanecam.pipeline.errors import MissingDependencyError


def _failing_import(name):
    raise ImportError(f"{name} failed to import")


def test_a_missing_library_names_the_extra(monkeypatch):
    monkeypatch.setattr(lazy.importlib, "import_module", _failing_import)
    monkeypatch.setattr(signals._state, "received", None)
    with pytest.raises(MissingDependencyError, match=r"lanecam\[test\]"):
        lazy.require("onnxruntime", "test", "ONNX Runtime inference")


def test_an_import_cut_by_a_stop_signal_is_the_stop_not_a_missing_library(monkeypatch):
    """A SIGTERM inside a C extension's start-up surfaces as an ImportError; after a stop
    signal that is the signal, not "onnxruntime is not installed" with exit 2."""
    monkeypatch.setattr(lazy.importlib, "import_module", _failing_import)
    monkeypatch.setattr(signals._state, "received", signal.SIGTERM)
    with pytest.raises(signals.Interrupted) as info:
        lazy.require("onnxruntime", "test", "ONNX Runtime inference")
    assert info.value.signum == signal.SIGTERM
