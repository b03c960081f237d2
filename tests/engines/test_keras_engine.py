"""KerasEngine, the reference engine: a tiny Keras model computes exactly what the tiny ONNX
model computes, its spec and model checks, the cross-engine check on the bundled model, and
``lanecam run --engine keras`` / ``--spec`` (the Engine contract: test_engine_contract.py)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from lanecam.engines import open_engine, spec_path_for  # noqa: E402
from lanecam.engines.keras_engine import KerasEngine  # noqa: E402
from lanecam.engines.onnxruntime_engine import OnnxRuntimeEngine  # noqa: E402
from lanecam.pipeline.errors import InputError, MissingDependencyError  # noqa: E402
from tinymodels import make_keras_model, make_model, reference_outputs, tiny_spec  # noqa: E402

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def spec():
    return tiny_spec()


@pytest.fixture
def kmodel(tmp_path, spec):
    return make_keras_model(tmp_path / "tiny.keras", spec)


def test_computes_what_the_onnx_model_computes(kmodel, spec, tmp_path):
    # the Engine contract itself (lifecycle, checks, buffers, timing, batches) is checked for
    # every engine in test_engine_contract.py; this is the reference engine's purpose
    x = np.random.default_rng(1).random(spec.input_shape, dtype=np.float32)
    with KerasEngine(kmodel) as engine, \
            OnnxRuntimeEngine(make_model(tmp_path / "tiny.onnx", spec), threads=1) as ort:
        assert engine.describe() == "keras/tensorflow-cpu"
        out, other = engine.infer(x), ort.infer(x)
        for name in out:
            np.testing.assert_allclose(out[name], other[name], atol=1e-5)


def test_an_nchw_spec_is_transposed_back_for_keras(tmp_path):
    nhwc = tiny_spec()
    model = make_keras_model(tmp_path / "m.keras", nhwc, save_spec=False)
    x = np.random.default_rng(3).random(nhwc.input_shape, dtype=np.float32)
    with KerasEngine(model, spec=nhwc.replace(layout="NCHW")) as engine:
        out = engine.infer(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        np.testing.assert_allclose(out[nhwc.seg_output], reference_outputs(nhwc, x)[0], atol=1e-5)


def test_spec_from_sidecar_or_argument_else_a_clear_error(tmp_path, spec):
    path = make_keras_model(tmp_path / "plain.keras", spec, save_spec=False)
    with pytest.raises(InputError, match=r"plain.keras: no ModelSpec.*--spec"):
        KerasEngine(path)
    assert KerasEngine(path, spec=spec).spec == spec
    spec.save(spec_path_for(path))
    assert KerasEngine(path).spec == spec


@pytest.mark.parametrize("change, match", [
    (dict(input_height=48), r"input shape \[None, 32, 64, 3\].*\[N, 48, 64, 3\]"),
    (dict(class_names=["background", "L1", "R1"]), "3 classes"),
    (dict(exist_output=None), "existence output"),
])
def test_a_model_that_does_not_match_its_spec_is_refused_at_construction(kmodel, spec, change,
                                                                        match):
    # construction runs in the main thread before any stage: bad input, not a stage failure
    with pytest.raises(InputError, match=match) as info:
        KerasEngine(kmodel, spec=spec.replace(**change))
    assert str(kmodel) in str(info.value)


def test_bad_files_are_refused_naming_them(tmp_path, spec):
    with pytest.raises(InputError, match="model file not found"):
        KerasEngine(tmp_path / "missing.keras")
    onnx_file = make_model(tmp_path / "m.onnx", spec)
    with pytest.raises(InputError, match="keras engine reads .keras"):
        KerasEngine(onnx_file)
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip archive")
    spec.save(spec_path_for(junk))
    with pytest.raises(InputError, match="junk.keras: not a Keras model file"):
        KerasEngine(junk)
    # without a spec beside it: the file is still what is wrong, not the missing spec (before:
    # "no ModelSpec ...; pass --spec", a flag lanecam evaluate does not have)
    bare = tmp_path / "bare.keras"
    bare.write_bytes(b"a text file under a model's name")
    with pytest.raises(InputError, match="bare.keras: not a Keras model file"):
        KerasEngine(bare)


def test_without_tensorflow_the_error_names_the_train_extra(kmodel, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # an import of it fails, as when absent
    with pytest.raises(MissingDependencyError, match=r"lanecam\[train\]"):
        KerasEngine(kmodel)


def test_loader_picks_keras_for_keras_models_and_the_bundled_original(kmodel):
    assert isinstance(open_engine(kmodel), KerasEngine)
    bundled = open_engine(engine="keras")
    assert isinstance(bundled, KerasEngine) and bundled.model_path.name == "lanefcn.keras"
    assert bundled.spec == open_engine(engine="onnxruntime").spec


@pytest.mark.skipif(not (SHARED / "images").is_dir(), reason="../shared/data not present")
def test_the_bundled_keras_model_matches_its_onnx_export_on_real_frames():
    import cv2

    from lanecam.pipeline.preprocess import Preprocessor

    frames = sorted((SHARED / "images").glob("*/*.jpg"))[:3]
    assert frames
    with open_engine(engine="keras") as k, open_engine(engine="onnxruntime", threads=1) as o:
        worst = 0.0
        for f in frames:
            img = cv2.imread(str(f))
            x = Preprocessor(k.spec, img.shape[1], img.shape[0])(img)
            a, b = k.infer(x), o.infer(x)
            worst = max(worst, *(float(np.abs(a[n] - b[n]).max()) for n in a))
    assert worst < 1e-4


def test_lanecam_run_with_the_keras_engine_and_a_spec_file(tmp_path, spec):
    from lanecam.pipeline.cli import main

    model = make_keras_model(tmp_path / "m.keras", spec, save_spec=False)
    spec_file = tmp_path / "elsewhere.json"
    spec.save(spec_file)
    onnx_model = make_model(tmp_path / "m.onnx", spec)
    src = "synthetic://?frames=4&width=160&height=96"
    assert main(["run", src, "--model", str(model), "--quiet",
                 "--lanes", str(tmp_path / "none.jsonl")]) == 2  # no spec anywhere
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not HDF5")
    assert main(["run", src, "--model", str(junk), "--spec", str(spec_file), "--quiet",
                 "--lanes", str(tmp_path / "junk.jsonl")]) == 2  # bad input, found at start
    assert main(["run", src, "--model", str(model), "--spec", str(spec_file), "--quiet",
                 "--lanes", str(tmp_path / "k.jsonl")]) == 0
    assert main(["run", src, "--model", str(onnx_model), "--quiet",
                 "--lanes", str(tmp_path / "o.jsonl")]) == 0
    k = [json.loads(x) for x in (tmp_path / "k.jsonl").read_text().splitlines()]
    o = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [r["frame_id"] for r in k] == [0, 1, 2, 3]
    assert sum(len(r["lanes"]) for r in k) > 0  # something to compare
    for a, b in zip(k, o):  # the same lanes, point for point
        assert [lane["slot"] for lane in a["lanes"]] == [lane["slot"] for lane in b["lanes"]]
        for la, lb in zip(a["lanes"], b["lanes"]):
            np.testing.assert_allclose(la["points"], lb["points"], atol=0.5)
