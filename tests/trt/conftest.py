"""Fixtures: the fake tensorrt + pycuda installed in ``sys.modules`` for one test."""

import sys
from types import SimpleNamespace

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from trt import fake_cuda, fake_trt  # noqa: E402

ALL_VERSIONS = list(fake_trt.PROFILES)
MAIN_VERSIONS = ["8.6", "10.13", "11.1"]


def install(monkeypatch, version: str, gpu_name="Fake Orin", cc=(8, 7), dla_cores=2):
    gpu = fake_cuda.FakeGPU(gpu_name, cc)
    package, driver = fake_cuda.make_module(gpu)
    trt = fake_trt.make_module(version, gpu, dla_cores)
    monkeypatch.setitem(sys.modules, "tensorrt", trt)
    monkeypatch.setitem(sys.modules, "pycuda", package)
    monkeypatch.setitem(sys.modules, "pycuda.driver", driver)
    monkeypatch.delitem(sys.modules, "pycuda.autoinit", raising=False)
    return SimpleNamespace(trt=trt, cuda=driver, gpu=gpu, version=version)


@pytest.fixture
def fake_gpu(monkeypatch):
    """A function ``(version, **gpu) -> namespace(trt, cuda, gpu)`` installing the fakes."""
    return lambda version, **kw: install(monkeypatch, version, **kw)
