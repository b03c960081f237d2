"""export_keras on a tiny Keras 3 model built here: Conv2D, MaxPool, UpSampling2D (nearest and
bilinear), Concatenate, and a 1x1 conv + GlobalAveragePooling existence head."""

import json

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from lanecam.engines.modelspec import METADATA_KEY, ModelSpec, spec_path_for  # noqa: E402
from lanecam.tools.export import ExportCheckError, export_keras  # noqa: E402
from lanecam.tools.export.trt_compat import _TRT_COORD_MODES  # noqa: E402

pytestmark = pytest.mark.tf

SPEC = ModelSpec(name="tiny", input_height=32, input_width=64, crop_top=0.3)


def tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    inp = keras.Input((None, None, 3), name="rgb")
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    p = layers.MaxPooling2D()(x)
    y = layers.Conv2D(8, 3, padding="same", activation="relu")(p)
    up_n = layers.UpSampling2D(interpolation="nearest")(y)
    up_b = layers.UpSampling2D(interpolation="bilinear")(y)
    c = layers.Concatenate()([x, up_n, up_b])
    seg = layers.Conv2D(5, 1, activation="softmax", name="seg")(c)
    e = layers.Conv2D(4, 1)(c)
    e = layers.GlobalAveragePooling2D()(e)
    exist = layers.Activation("sigmoid", name="exist")(e)
    return keras.Model(inp, [seg, exist])


def _frames_dir(tmp_path, n=3):
    import cv2

    rng = np.random.default_rng(1)
    d = tmp_path / "frames"
    d.mkdir()
    for i in range(n):
        cv2.imwrite(str(d / f"{i}.png"), rng.integers(0, 256, (90, 160, 3), dtype=np.uint8))
    return d


def _graph_resizes(model):
    return [n for n in model.graph.node if n.op_type == "Resize"]


def test_export_in_memory_model(tmp_path, shared_data):
    out = export_keras(tiny_model(), tmp_path / "tiny.onnx", SPEC,
                       check_source=shared_data / "images", check_count=4)
    model = onnx.load(str(out))
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output] == ["lane_prob", "lane_exist"]
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 32, 64, 3]
    props = {p.key: p.value for p in model.metadata_props}
    assert ModelSpec.from_json(props[METADATA_KEY]) == SPEC
    assert ModelSpec.load(spec_path_for(out)) == SPEC
    for node in _graph_resizes(model):
        attrs = {a.name: a.s.decode() for a in node.attribute if a.type == a.STRING}
        assert attrs.get("coordinate_transformation_mode", "half_pixel") in _TRT_COORD_MODES
    assert all(n.domain in ("", "ai.onnx") for n in model.graph.node)


def test_export_matches_keras_on_other_inputs(tmp_path):
    km = tiny_model()
    out = export_keras(km, tmp_path / "t.onnx", SPEC, check_source=_frames_dir(tmp_path))
    x = np.random.default_rng(5).random((1, 32, 64, 3), dtype=np.float32)
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    seg, exist = sess.run(None, {"image": x})
    kseg, kexist = (np.asarray(t) for t in km(x, training=False))
    assert np.max(np.abs(seg - kseg)) < 1e-5
    assert np.max(np.abs(exist - kexist)) < 1e-5


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_export_from_file_nchw_dynamic_batch(tmp_path, suffix, capsys):
    path = tmp_path / f"tiny{suffix}"
    tiny_model().save(path)
    out = export_keras(path, tmp_path / "t.onnx", SPEC, nchw=True, dynamic_batch=True,
                       check_source=_frames_dir(tmp_path))
    assert "max |onnx - keras|" in capsys.readouterr().out
    model = onnx.load(str(out))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, 32, 64]
    assert ModelSpec.load(spec_path_for(out)).layout == "NCHW"
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    seg, exist = sess.run(None, {"image": np.zeros((2, 3, 32, 64), np.float32)})
    assert seg.shape == (2, 32, 64, 5) and exist.shape == (2, 4)


def test_tolerance_failure_removes_files(tmp_path):
    with pytest.raises(ExportCheckError, match="above the tolerance"):
        export_keras(tiny_model(), tmp_path / "t.onnx", SPEC, atol=0.0,
                     check_source=_frames_dir(tmp_path))
    assert not (tmp_path / "t.onnx").exists() and not (tmp_path / "t.spec.json").exists()


@pytest.mark.parametrize("change, match", [
    (dict(exist_output=None), "existence output"),
    (dict(class_names=("background", "a", "b")), "3 classes"),
])
def test_spec_mismatch_is_refused(tmp_path, change, match):
    from lanecam.pipeline.errors import InputError

    with pytest.raises(InputError, match=match):
        export_keras(tiny_model(), tmp_path / "t.onnx", SPEC.replace(**change),
                     check_source=_frames_dir(tmp_path))


def test_bad_opset_and_fixed_size_mismatch(tmp_path):
    from lanecam.pipeline.errors import InputError

    with pytest.raises(InputError, match="--opset"):
        export_keras(tiny_model(), tmp_path / "t.onnx", SPEC, opset=19)
    inp = keras.Input((48, 64, 3))
    fixed = keras.Model(inp, keras.layers.Conv2D(1, 1)(inp))
    with pytest.raises(InputError, match="height is 48"):
        export_keras(fixed, tmp_path / "t.onnx", SPEC)
