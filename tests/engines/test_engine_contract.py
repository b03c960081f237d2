"""Engine contract on tiny generated ONNX models: outputs, reused buffers, spec sources, bad models.

The contract tests run on every engine: ONNX Runtime, and TensorRT on the fake tensorrt + pycuda
of tests/trt with the attribute sets of 8.2 (bindings API), 8.6, 10.13 and 11.1.
"""

import numpy as np
import pytest

pytest.importorskip("onnx")

from lanecam.engines import Engine, open_engine, spec_path_for  # noqa: E402
from lanecam.engines.onnxruntime_engine import OnnxRuntimeEngine  # noqa: E402
from lanecam.pipeline.errors import InputError, MissingDependencyError  # noqa: E402
from tinymodels import make_model, reference_outputs, tiny_spec  # noqa: E402


ENGINES = ["onnxruntime", "tensorrt-8.2", "tensorrt-8.6", "tensorrt-10.13", "tensorrt-11.1"]


@pytest.fixture(params=ENGINES)
def make_engine(request, monkeypatch, tmp_path):
    """``(model_path, **kw) -> Engine`` for each engine (TensorRT on the fake GPU)."""
    kind, _, version = request.param.partition("-")
    if kind == "onnxruntime":
        return lambda path, **kw: OnnxRuntimeEngine(path, threads=1, **kw)
    from trt.conftest import install

    from lanecam.engines.tensorrt_engine import TensorRTEngine

    install(monkeypatch, version)
    return lambda path, **kw: TensorRTEngine(path, cache_dir=tmp_path / "engine-cache",
                                             say=lambda *a: None, **kw)


@pytest.fixture
def spec():
    return tiny_spec()


@pytest.fixture
def model(tmp_path, spec):
    return make_model(tmp_path / "tiny.onnx", spec)


def _reference(spec, x):
    return reference_outputs(spec, x)


def test_engine_runs_and_matches_the_graph(model, spec, make_engine):
    x = np.random.default_rng(1).random(spec.input_shape, dtype=np.float32)
    with make_engine(model) as engine:
        assert isinstance(engine, Engine)
        out = engine.infer(x)
        assert set(out) == {spec.seg_output, spec.exist_output}
        prob, exist = _reference(spec, x)
        np.testing.assert_allclose(out[spec.seg_output], prob, atol=1e-5)
        np.testing.assert_allclose(out[spec.exist_output], exist, atol=1e-5)
        assert engine.last_latency_ms > 0
        assert engine.providers
        assert engine.describe().startswith(engine.name + "/")
        assert engine.spec == spec and engine.precision == "fp32"
    engine.close()  # idempotent


def test_onnxruntime_reports_the_cpu_provider(model):
    with OnnxRuntimeEngine(model) as engine:
        assert engine.providers[-1] == "CPUExecutionProvider"
        assert engine.describe().startswith("onnxruntime/")


def test_output_buffers_are_reused_between_calls(model, spec, make_engine):
    a = np.zeros(spec.input_shape, np.float32)
    b = np.ones(spec.input_shape, np.float32)
    with make_engine(model) as engine:
        first = engine.infer(a)[spec.seg_output]
        kept = first.copy()
        second = engine.infer(b)[spec.seg_output]
        assert second is first                      # the same buffer, overwritten
        assert not np.allclose(second, kept)
        np.testing.assert_allclose(second, _reference(spec, b)[0], atol=1e-5)


def test_infer_refuses_a_wrong_tensor_and_use_before_open(model, spec, make_engine):
    engine = make_engine(model)
    with pytest.raises(Exception, match="before open"):
        engine.infer(np.zeros(spec.input_shape, np.float32))
    with engine:
        with pytest.raises(InputError, match="expected float32"):
            engine.infer(np.zeros((1, 8, 8, 3), np.float32))
        with pytest.raises(InputError, match="expected float32"):
            engine.infer(np.zeros(spec.input_shape, np.float64))


def test_spec_from_sidecar_and_from_argument(tmp_path, spec, make_engine):
    path = make_model(tmp_path / "plain.onnx", spec, embed_spec=False)
    with pytest.raises(InputError, match="no ModelSpec"):
        make_engine(path)
    assert make_engine(path, spec=spec).spec == spec
    spec.save(spec_path_for(path))
    assert make_engine(path).spec == spec


@pytest.mark.parametrize("make, match", [
    (lambda p, s: p.write_bytes(b"this is not a protobuf at all" * 10), "not a loadable ONNX"),
    (lambda p, s: make_model(p, s, input_name="input_1"), "named 'input_1'.*expects 'image'"),
    (lambda p, s: make_model(p, s, input_shape=["N", 64, 64, 3]), r"shape \['N', 64, 64, 3\]"),
])
def test_bad_models_are_refused_naming_the_file(tmp_path, spec, make, match, make_engine):
    path = tmp_path / "x.onnx"
    make(path, spec)
    with pytest.raises(InputError, match=match) as info:
        make_engine(path, spec=spec)
    assert str(path) in str(info.value)


def test_missing_output_is_named(tmp_path, spec, make_engine):
    path = make_model(tmp_path / "m.onnx", spec)
    with pytest.raises(InputError, match="no output named 'lane_seg'"):
        make_engine(path, spec=spec.replace(seg_output="lane_seg"))


def test_unavailable_provider_is_refused_at_open(model):
    engine = OnnxRuntimeEngine(model, providers=["NoSuchExecutionProvider"])
    with pytest.raises(InputError, match="NoSuchExecutionProvider"):
        engine.open()


# ---- loader ----------------------------------------------------------------------------------
def test_open_engine_auto_is_onnxruntime_on_a_cpu_machine(model, spec, monkeypatch):
    import lanecam.engines.loader as loader

    monkeypatch.setattr(loader, "_has", lambda m: False)
    engine = open_engine(str(model))
    assert isinstance(engine, OnnxRuntimeEngine) and engine.spec == spec
    assert open_engine(model, engine="onnxruntime", threads=1).threads == 1


def test_open_engine_errors(tmp_path, model):
    with pytest.raises(InputError, match="model file not found"):
        open_engine(tmp_path / "missing.onnx")
    with pytest.raises(InputError, match="expected one of auto, onnxruntime"):
        open_engine(model, engine="openvino")
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(b"x")
    with pytest.raises(InputError, match=r"onnxruntime engine reads \.onnx models, not \.keras"):
        open_engine(keras_file, engine="onnxruntime")
    with pytest.raises(InputError, match="keras engine reads .keras, .h5 or SavedModel"):
        open_engine(model, engine="keras")


def test_open_engine_tensorrt_without_tensorrt_names_the_extra(model, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorrt", None)  # an import of it fails, as when absent
    with pytest.raises(MissingDependencyError, match=r"lanecam\[trt\]"):
        open_engine(model, engine="tensorrt")


def test_default_model_path_points_into_the_package():
    from lanecam.engines import default_model_path

    p = default_model_path()
    assert p.name == "lanefcn.onnx" and p.parent.parent.name == "models"


@pytest.mark.parametrize("cores, threads", [(1, 1), (2, 1), (3, 1), (4, 2), (16, 8)])
def test_default_threads_leave_half_the_cores_to_the_other_stages(monkeypatch, cores, threads):
    import os

    from lanecam.engines.onnxruntime_engine import default_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert default_threads() == threads


def test_the_session_uses_the_asked_or_the_default_threads(model):
    from lanecam.engines.onnxruntime_engine import default_threads

    with OnnxRuntimeEngine(model) as engine:
        assert engine.threads is None and engine.intra_op_threads == default_threads()
    with OnnxRuntimeEngine(model, threads=3) as engine:
        assert engine.intra_op_threads == 3
