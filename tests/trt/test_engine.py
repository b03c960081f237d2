"""TensorRTEngine on the fake TensorRT + pycuda: thread/context discipline, buffers, bindings
path, the engine cache and its mismatch messages."""

import json
import shutil
import threading

import numpy as np
import pytest

from lanecam.engines.base import EngineStateError
from lanecam.engines.engine_cache import PlanMismatchError, sidecar_path_for
from lanecam.engines.tensorrt_engine import TensorRTEngine
from lanecam.pipeline.errors import InputError, LanecamError, PipelineError

from trt import models

VERSIONS = ["8.2", "8.6", "10.13", "11.1"]


def _in_thread(fn):
    """Run ``fn`` in a fresh thread (like the pipeline's inference stage); re-raise its error."""
    box = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc
    t = threading.Thread(target=target)
    t.start()
    t.join(60)
    if "error" in box:
        raise box["error"]
    return box.get("result"), t.ident


def _x(seed=0):
    return np.random.default_rng(seed).random((1, models.H, models.W, 3), dtype=np.float32)


@pytest.mark.parametrize("version", VERSIONS)
def test_worker_thread_discipline_and_results(fake_gpu, tmp_path, version):
    env = fake_gpu(version)
    onnx_path = models.tiny_onnx(tmp_path / "m.onnx")
    engine = TensorRTEngine(onnx_path, cache_dir=tmp_path / "cache", say=lambda *a: None)

    def work():
        with engine:
            first = engine.infer(_x(0))
            a = {k: v.copy() for k, v in first.items()}
            second = engine.infer(_x(1))
            assert second is first  # reused buffers, as documented
            return a, {k: v.copy() for k, v in second.items()}
    (out0, out1), tid = _in_thread(work)

    for x, out in ((_x(0), out0), (_x(1), out1)):
        want = models.reference(onnx_path, x)
        assert set(out) == {"lane_prob", "lane_exist"}
        for k in want:
            np.testing.assert_allclose(out[k], want[k], rtol=1e-6, atol=1e-6)
    gpu = env.gpu
    primary = gpu.primary[0].id
    cuda_calls = [c for c in gpu.calls if c[0] != "Device.retain_primary_context"]
    assert {c[1] for c in gpu.calls} == {tid}, "every CUDA/TensorRT call from the worker thread"
    assert all(c[2] == primary for c in cuda_calls if c[0] != "Context.pop"), cuda_calls
    assert gpu.made_contexts == 0            # never pycuda.autoinit / make_context
    assert gpu.live_allocations() == 0       # freed in close()
    assert gpu.calls[-1][0] == "Context.pop"
    names = [c[0] for c in gpu.calls]
    assert names.count("mem_alloc") == 3 and names.count("pagelocked_empty") == 3  # once per tensor
    assert names.count("execute_async_v3" if version != "8.2" else "execute_async_v2") == 2
    assert engine.last_latency_ms > 0 and engine.precision == "fp32"
    assert engine.spec == models.SPEC and engine.providers[0].startswith("TensorRT")


def test_wrong_thread_is_refused(fake_gpu, tmp_path):
    fake_gpu("10.13")
    engine = TensorRTEngine(models.tiny_onnx(tmp_path / "m.onnx"), cache_dir=tmp_path / "c",
                            say=lambda *a: None)
    engine.open()
    try:
        with pytest.raises(EngineStateError, match="another thread"):
            _in_thread(lambda: engine.infer(_x()))
        with pytest.raises(EngineStateError, match="another thread"):
            _in_thread(engine.close)
        assert engine.is_open  # a refused close leaves the engine usable
        with pytest.raises(InputError, match=r"expected float32 \(1, 8, 16, 3\)"):
            engine.infer(np.zeros((1, 4, 4, 3), np.float32))
    finally:
        engine.close()
    with pytest.raises(EngineStateError, match="before open"):
        engine.infer(_x())


def test_failed_open_pops_context(fake_gpu, tmp_path):
    env = fake_gpu("10.13")
    bad = models.tiny_onnx(tmp_path / "m.onnx", nearest_tf=True)
    engine = TensorRTEngine(bad, cache_dir=tmp_path / "c", say=lambda *a: None)
    with pytest.raises(InputError, match="parser rejected"):
        _in_thread(engine.open)
    assert env.gpu.calls[-1][0] == "Context.pop" and env.gpu.live_allocations() == 0


def test_autoinit_style_context_breaks_the_fake(fake_gpu, tmp_path):
    """The fake reproduces NVIDIA/TensorRT #3028: buffers made in a non-primary context and
    TensorRT running in the primary one -> invalid resource handle."""
    env = fake_gpu("10.13")
    plan = models.tiny_onnx(tmp_path / "m.onnx")
    engine = TensorRTEngine(plan, cache_dir=tmp_path / "c", say=lambda *a: None)
    engine.open()
    try:
        env.cuda.Device(0).make_context()  # what `import pycuda.autoinit` would have done
        with pytest.raises(LanecamError, match="execution failed") as info:
            engine.infer(_x())
        assert not isinstance(info.value, PipelineError)  # the runner names the stage
        env.gpu.stack().pop()
    finally:
        engine.close()


def test_dynamic_batch_runs_batch_one(fake_gpu, tmp_path):
    fake_gpu("11.1")
    path = models.tiny_onnx(tmp_path / "m.onnx", dynamic=True)
    out, _ = _in_thread(lambda: _open_infer(path, tmp_path))
    assert out["lane_prob"].shape == (1, models.H, models.W, 5)


def _open_infer(path, tmp_path, **kw):
    with TensorRTEngine(path, cache_dir=tmp_path / "cache", say=lambda *a: None, **kw) as e:
        return {k: v.copy() for k, v in e.infer(_x()).items()}


def test_cache_reuse_and_which_field_differs(monkeypatch, fake_gpu, tmp_path):
    onnx_path = models.tiny_onnx(tmp_path / "m.onnx")
    notes = []
    env = fake_gpu("10.3")
    with TensorRTEngine(onnx_path, cache_dir=tmp_path / "cache", say=notes.append):
        pass
    plans = list((tmp_path / "cache").glob("*.plan"))
    assert len(plans) == 1 and len(env.trt.builds) == 1
    side = json.loads(sidecar_path_for(plans[0]).read_text())
    assert side["tensorrt_version"] == "10.3.0.26" and side["compute_capability"] == "8.7"
    assert side["input_shape"] == [1, models.H, models.W, 3] and side["modelspec"]["name"] == "tiny"
    with TensorRTEngine(onnx_path, cache_dir=tmp_path / "cache", say=notes.append):
        pass
    assert len(env.trt.builds) == 1, "second start reuses the cached plan"

    env = fake_gpu("10.13")  # TensorRT upgraded
    notes.clear()
    with TensorRTEngine(onnx_path, cache_dir=tmp_path / "cache", say=notes.append):
        pass
    assert any("tensorrt_version is '10.3.0.26' in the plan but '10.13.0.35' here" in n
               for n in notes), notes
    env = fake_gpu("10.13", gpu_name="Fake RTX", cc=(8, 9))  # plan copied to another GPU
    notes.clear()
    with TensorRTEngine(onnx_path, cache_dir=tmp_path / "cache", say=notes.append):
        pass
    assert any("compute_capability is '8.7'" in n and "gpu_name" in n for n in notes), notes
    assert len(list((tmp_path / "cache").glob("*.plan"))) == 1


def test_user_plan_mismatch_is_refused(fake_gpu, tmp_path):
    fake_gpu("8.6")
    onnx_path = models.tiny_onnx(tmp_path / "m.onnx")
    _in_thread(lambda: _open_infer(onnx_path, tmp_path))
    cached = next((tmp_path / "cache").glob("*.plan"))
    plan = tmp_path / "m.plan"
    shutil.copy(cached, plan)
    shutil.copy(sidecar_path_for(cached), sidecar_path_for(plan))
    out, _ = _in_thread(lambda: _open_infer(plan, tmp_path))  # same machine: runs
    assert out["lane_exist"].shape == (1, 4)
    fake_gpu("10.13")
    with pytest.raises(PlanMismatchError, match="tensorrt_version is '8.6.1.6' in the plan"):
        _in_thread(lambda: _open_infer(plan, tmp_path))
    sidecar_path_for(plan).unlink()
    with pytest.raises(InputError, match="no sidecar"):
        TensorRTEngine(plan)


def test_sidecar_that_lies_gives_a_clear_error(fake_gpu, tmp_path):
    fake_gpu("8.6")
    onnx_path = models.tiny_onnx(tmp_path / "m.onnx")
    _in_thread(lambda: _open_infer(onnx_path, tmp_path))
    env = fake_gpu("10.13")
    plan = next((tmp_path / "cache").glob("*.plan"))
    side = json.loads(sidecar_path_for(plan).read_text())
    side["tensorrt_version"] = env.trt.__version__
    sidecar_path_for(plan).write_text(json.dumps(side))
    with pytest.raises(InputError, match="could not deserialize"):
        _in_thread(lambda: _open_infer(plan, tmp_path))
    assert any("not compatible with this version" in m for _, m in env.trt.log)


def test_unwritable_cache_is_an_error_at_start(fake_gpu, tmp_path):
    fake_gpu("10.13")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="not writable"):
        TensorRTEngine(models.tiny_onnx(tmp_path / "m.onnx"), cache_dir=blocker / "cache")


def test_missing_tensorrt_names_the_extra(monkeypatch, tmp_path):
    import sys

    from lanecam.pipeline.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "tensorrt", None)
    engine = TensorRTEngine(models.tiny_onnx(tmp_path / "m.onnx"), cache_dir=tmp_path / "c")
    with pytest.raises(MissingDependencyError, match=r"lanecam\[trt\]"):
        engine.open()


def test_plan_for_dla_refused_on_gpu_run(fake_gpu, tmp_path):
    fake_gpu("10.13")
    path = models.fp16_onnx(tmp_path / "m16.onnx")
    _in_thread(lambda: _open_infer(path, tmp_path, dla_core=0))
    cached = next((tmp_path / "cache").glob("*-dla0.plan"))
    with pytest.raises(PlanMismatchError, match="dla_core is 0 in the plan but None here"):
        _in_thread(lambda: _open_infer(cached, tmp_path))
    out, _ = _in_thread(lambda: _open_infer(cached, tmp_path, dla_core=0))
    assert out["lane_prob"].shape == (1, models.H, models.W, 5)


@pytest.mark.parametrize("version", ["8.6", "11.1"])
def test_int8_plan_computes_like_tensorrt(fake_gpu, tmp_path, version):
    """The fake runs Q/DQ with int32 accumulation, as TensorRT does (not ONNX Runtime's int8
    CPU kernels, which saturate on x86 without VNNI): the INT8 engine follows FP32."""
    from lanecam.calibration.int8 import CalibrationSet

    fake_gpu(version)
    src = models.tiny_onnx(tmp_path / "m.onnx")
    q = models.int8_onnx(tmp_path / "m8.onnx", models.frames(tmp_path / "f"))
    held_out = list(CalibrationSet(models.frames(tmp_path / "h", 4, seed=11), models.SPEC, 4))

    def work():
        with TensorRTEngine(q, cache_dir=tmp_path / "cache", say=lambda *a: None) as e:
            assert e.precision == "int8"
            return [e.infer(x)["lane_prob"].copy() for x in held_out]
    outs, _ = _in_thread(work)
    for x, got in zip(held_out, outs):
        want = models.reference(src, x)["lane_prob"]
        assert np.max(np.abs(got - want)) < 0.03
        assert np.mean(got.argmax(-1) == want.argmax(-1)) > 0.95
