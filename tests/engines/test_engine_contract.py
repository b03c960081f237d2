"""The Engine contract, checked on every engine from one matrix, and the ONNX engines' model checks.

``ENGINES`` is the matrix: ONNX Runtime, the Keras reference engine (skipped without
TensorFlow) and TensorRT on the fake tensorrt + pycuda of tests/trt with the attribute sets of
8.2 (bindings API), 8.6, 10.13 and 11.1. Every engine runs the same tiny lane model (a 1x1
conv, softmax and existence head, in ONNX or in Keras, see tinymodels) so the outputs are
checked against numpy.
"""

import importlib.util
import re

import numpy as np
import pytest

pytest.importorskip("onnx")

from lanecam.engines import Engine, open_engine, spec_path_for  # noqa: E402
from lanecam.engines.base import EngineStateError  # noqa: E402
from lanecam.engines.onnxruntime_engine import OnnxRuntimeEngine  # noqa: E402
from lanecam.pipeline.errors import InputError, MissingDependencyError, PipelineError  # noqa: E402
from tinymodels import make_keras_model, make_model, reference_outputs, tiny_spec  # noqa: E402

HAS_TF = all(importlib.util.find_spec(m) is not None for m in ("tensorflow", "keras"))
# the engines that read .onnx files: the same model is refused with the same message by each
ONNX_ENGINES = ["onnxruntime", "tensorrt-8.2", "tensorrt-8.6", "tensorrt-10.13", "tensorrt-11.1"]
KERAS = pytest.param("keras", marks=pytest.mark.skipif(not HAS_TF, reason="no tensorflow"))
ENGINES = ONNX_ENGINES[:1] + [KERAS] + ONNX_ENGINES[1:]


def _factory(kind_version: str, monkeypatch, tmp_path):
    """``(model_path, **kw) -> Engine`` for one entry of the matrix (TensorRT on the fake GPU)."""
    kind, _, version = kind_version.partition("-")
    if kind == "onnxruntime":
        return lambda path, **kw: OnnxRuntimeEngine(path, threads=1, **kw)
    if kind == "keras":
        from lanecam.engines.keras_engine import KerasEngine

        return KerasEngine
    from trt.conftest import install

    from lanecam.engines.tensorrt_engine import TensorRTEngine

    install(monkeypatch, version)
    return lambda path, **kw: TensorRTEngine(path, cache_dir=tmp_path / "engine-cache",
                                             say=lambda *a: None, **kw)


@pytest.fixture
def spec():
    return tiny_spec()


@pytest.fixture(params=ENGINES)
def engine(request, monkeypatch, tmp_path, spec):
    """A constructed (not opened) engine of each kind on the tiny model; closed afterwards."""
    if request.param == "keras":
        path = make_keras_model(tmp_path / "tiny.keras", spec)
    else:
        path = make_model(tmp_path / "tiny.onnx", spec)
    made = _factory(request.param, monkeypatch, tmp_path)(path)
    yield made
    made.close()


@pytest.fixture(params=ONNX_ENGINES)
def make_engine(request, monkeypatch, tmp_path):
    """``(model_path, **kw) -> Engine`` for each engine that reads ONNX files."""
    return _factory(request.param, monkeypatch, tmp_path)


@pytest.fixture
def model(tmp_path, spec):
    return make_model(tmp_path / "tiny.onnx", spec)


# ---- the contract, on every engine ------------------------------------------------------------
def test_open_and_close_are_idempotent_and_reopen_works(engine, spec):
    x = np.zeros(spec.input_shape, np.float32)
    assert isinstance(engine, Engine) and not engine.is_open
    assert engine.open() is engine and engine.is_open
    assert engine.open() is engine  # a second open changes nothing
    first = engine.infer(x)[spec.seg_output].copy()
    engine.close()
    engine.close()  # idempotent
    assert not engine.is_open
    with engine:  # reopened, as a context manager
        np.testing.assert_allclose(engine.infer(x)[spec.seg_output], first, atol=1e-6)
    assert not engine.is_open


def test_infer_before_open_and_after_close_is_refused(engine, spec):
    x = np.zeros(spec.input_shape, np.float32)
    for call in (engine.infer, engine.infer_batch):
        with pytest.raises(EngineStateError, match=r"before open\(\)") as info:
            call(x)
        # a plain usage error, not a stage failure: the runner names the stage
        assert not isinstance(info.value, PipelineError)
    engine.open()
    engine.close()
    with pytest.raises(EngineStateError, match="before open"):
        engine.infer(x)


@pytest.mark.parametrize("shape, dtype", [((1, 8, 8, 3), np.float32), (None, np.float64),
                                          (None, np.uint8), ((32, 64, 3), np.float32)])
def test_wrong_input_tensors_are_refused(engine, spec, shape, dtype):
    with engine:
        with pytest.raises(InputError, match=r"input tensor: expected float32 \(1, 32, 64, 3\)"):
            engine.infer(np.zeros(shape or spec.input_shape, dtype))


def test_outputs_match_the_spec_and_the_graph(engine, spec):
    x = np.random.default_rng(1).random(spec.input_shape, dtype=np.float32)
    with engine:
        out = engine.infer(x)
        assert set(out) == set(spec.required_outputs())
        prob, exist = reference_outputs(spec, x)
        assert out[spec.seg_output].shape == (1, spec.input_height, spec.input_width,
                                              spec.num_classes)
        assert out[spec.exist_output].shape == (1, len(spec.slot_names))
        for name, want in ((spec.seg_output, prob), (spec.exist_output, exist)):
            assert out[name].dtype == np.float32
            np.testing.assert_allclose(out[name], want, atol=1e-5)
        assert engine.spec == spec and engine.precision == "fp32"


def test_output_buffers_are_reused_and_documented(engine, spec):
    a = np.zeros(spec.input_shape, np.float32)
    b = np.ones(spec.input_shape, np.float32)
    with engine:
        first = engine.infer(a)[spec.seg_output]
        kept = first.copy()
        second = engine.infer(b)[spec.seg_output]
        assert second is first                      # the same buffer, overwritten
        assert not np.allclose(second, kept)
        np.testing.assert_allclose(second, reference_outputs(spec, b)[0], atol=1e-5)
    assert re.search(r"overwritten by the next call|reused", type(engine).__doc__)


def test_latency_is_measured_by_the_base_class(engine, spec):
    with engine:
        engine.last_latency_ms = -1.0
        engine.infer(np.zeros(spec.input_shape, np.float32))
        assert engine.last_latency_ms > 0
    # backends implement _infer only; infer (guard, check, timing) is the base class's
    assert type(engine).infer is Engine.infer and type(engine).open is Engine.open


def test_describe_names_the_engine_and_what_runs_it(engine):
    with engine:
        assert engine.providers
        assert engine.describe().startswith(engine.name + "/")
        assert engine.name in repr(engine) and "tiny" in repr(engine)


def test_batches_run_where_the_batch_is_free_and_are_refused_where_fixed(engine, spec):
    x = np.random.default_rng(2).random((3,) + spec.input_shape[1:], dtype=np.float32)
    with engine:
        if not engine.dynamic_batch:
            with pytest.raises(InputError, match="batch dimension is fixed"):
                engine.infer_batch(x)
            return
        out = engine.infer_batch(x)
        assert out[spec.seg_output].shape[0] == 3
        np.testing.assert_allclose(out[spec.seg_output][2:3],
                                   reference_outputs(spec, x[2:3])[0], atol=1e-5)
        with pytest.raises(InputError, match=r"input batch: expected float32 \(N, 32, 64, 3\)"):
            engine.infer_batch(x[:, :8])


# ---- model checks of the engines that read ONNX files -----------------------------------------
def test_onnxruntime_reports_the_cpu_provider(model):
    with OnnxRuntimeEngine(model) as engine:
        assert engine.providers[-1] == "CPUExecutionProvider"
        assert engine.describe().startswith("onnxruntime/")


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
    (tmp_path / "folder.onnx").mkdir()
    with pytest.raises(InputError, match="folder.onnx: is a folder, expected a model file"):
        open_engine(tmp_path / "folder.onnx")
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
