"""Fixtures for ``lanecam run`` tests: tiny models and small generated videos."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_TINY = Path(__file__).resolve().parents[1] / "engines" / "tinymodels.py"


def _tinymodels():
    # tests/engines has no __init__ (it would shadow the real ``engines`` package): load by path
    spec = importlib.util.spec_from_file_location("lanecam_test_tinymodels", _TINY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def tinymodels():
    pytest.importorskip("onnx")
    return _tinymodels()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tinymodels):
    """A tiny ONNX lane model with its ModelSpec embedded in the metadata."""
    return tinymodels.make_model(tmp_path_factory.mktemp("model") / "tiny.onnx",
                                 tinymodels.tiny_spec())


def write_video(path, frames=24, width=160, height=96, fps=25.0):
    """A small MPEG-4 video of moving stripes; returns the path."""
    import cv2

    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert out.isOpened()
    x = np.arange(width)
    for i in range(frames):
        row = (((x + 3 * i) // 8) % 2 * 200).astype(np.uint8)
        out.write(np.repeat(np.repeat(row[None, :, None], height, 0), 3, 2))
    out.release()
    return path


@pytest.fixture(scope="session")
def small_video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("video") / "small.mp4")
