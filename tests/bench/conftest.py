"""Fixtures for ``lanecam bench`` tests."""

import pytest

from .helpers import tinymodels


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """``(module, folder)``: the tinymodels helper and a folder for models."""
    pytest.importorskip("onnx")
    return tinymodels(), tmp_path_factory.mktemp("bench-models")


@pytest.fixture(scope="session")
def tiny_model(tiny):
    """A tiny lane model with a dynamic batch dimension."""
    mod, folder = tiny
    return mod.make_model(folder / "tiny.onnx", mod.tiny_spec())


@pytest.fixture(scope="session")
def tiny_model_b1(tiny):
    """The same model with its batch fixed at 1."""
    mod, folder = tiny
    return mod.make_model(folder / "tiny_b1.onnx", mod.tiny_spec(), input_batch=1)


@pytest.fixture(scope="session")
def small_video(tmp_path_factory):
    """24 frames of moving stripes, 160x96 at 25 fps."""
    import cv2
    import numpy as np

    path = tmp_path_factory.mktemp("bench-video") / "small.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (160, 96))
    x = np.arange(160)
    for i in range(24):
        row = (((x + 3 * i) // 8) % 2 * 200).astype(np.uint8)
        out.write(np.repeat(np.repeat(row[None, :, None], 96, 0), 3, 2))
    out.release()
    return path
