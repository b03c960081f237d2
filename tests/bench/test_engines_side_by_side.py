"""ONNX Runtime and TensorRT side by side in one table (TensorRT + pycuda faked, as in tests/trt)."""

import json
import sys

import pytest

from lanecam.pipeline.cli import main

from .helpers import SMALL_SYNTHETIC

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from trt import fake_cuda, fake_trt, models  # noqa: E402  (tests/trt helpers)


@pytest.fixture
def fake_tensorrt(monkeypatch, tmp_path):
    gpu = fake_cuda.FakeGPU("Fake Orin", (8, 7))
    package, driver = fake_cuda.make_module(gpu)
    monkeypatch.setitem(sys.modules, "tensorrt", fake_trt.make_module("10.13", gpu, 2))
    monkeypatch.setitem(sys.modules, "pycuda", package)
    monkeypatch.setitem(sys.modules, "pycuda.driver", driver)
    monkeypatch.delitem(sys.modules, "pycuda.autoinit", raising=False)
    monkeypatch.setenv("LANECAM_ENGINE_CACHE", str(tmp_path / "engine-cache"))
    return gpu


def test_two_engines_one_table(tmp_path, fake_tensorrt, capsys):
    model = models.tiny_onnx(tmp_path / "tiny.onnx")
    models.SPEC.save(tmp_path / "tiny.spec.json")
    out, md = tmp_path / "b.json", tmp_path / "b.md"
    code = main(["bench", SMALL_SYNTHETIC, "--model", str(model), "--engine",
                 "onnxruntime,tensorrt", "--frames", "10", "--warmup", "2", "--batch", "1",
                 "--preload", "3", "--quiet", "--json", str(out), "--markdown", str(md)])
    assert code == 0, capsys.readouterr().err
    results = json.loads(out.read_text())["results"]
    assert [r["config"]["engine"] for r in results] == ["onnxruntime", "tensorrt"]
    for r in results:
        assert "error" not in r
        assert r["pipelined"]["frames"] == 10 and r["pipelined"]["dropped"] == 0
        assert r["model_only"]["fps"] > 0
    table = [line for line in md.read_text().splitlines() if line.startswith("| tensorrt:")
             or line.startswith("| onnxruntime:")]
    assert len(table) == 2
