"""The LaneFCN graph: shapes, ops TensorRT builds, ONNX export with matching outputs, loss."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from lanecam.engines.modelspec import ModelSpec  # noqa: E402
from lanecam.tools.fcn import LaneFCNConfig, build_lanefcn  # noqa: E402

# ops the exported graph may hold: all built by TensorRT 8.6-11
ALLOWED_OPS = {"Conv", "Relu", "Add", "Concat", "Resize", "GlobalAveragePool", "Softmax",
               "Sigmoid", "Reshape", "Transpose", "Identity", "Flatten", "Squeeze",
               "Constant", "Mul", "Expand", "Shape", "Gather", "Unsqueeze", "Tile", "Cast",
               "ConstantOfShape", "Slice", "Range", "BatchNormalization", "Max", "Min", "Clip"}


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(1)
    return build_lanefcn(LaneFCNConfig(widths=(8, 8, 8, 8, 8), decoder_width=8))


def test_output_shapes(small_model):
    out = small_model(np.zeros((2, 128, 320, 3), np.float32))
    assert tuple(out["lane_prob"].shape) == (2, 64, 160, 5)
    assert tuple(out["lane_exist"].shape) == (2, 4)
    probs = np.asarray(out["lane_prob"])
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


def test_no_dense_or_flatten(small_model):
    kinds = {type(layer).__name__ for layer in small_model.layers}
    assert not kinds & {"Dense", "Flatten"}
    assert "GlobalAveragePooling2D" in kinds


def test_bad_size_refused():
    with pytest.raises(ValueError, match="multiple of 16"):
        build_lanefcn(LaneFCNConfig(input_height=100))


def test_export_matches_keras(small_model, tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from lanecam.tools.export import export_keras

    spec = ModelSpec(crop_top=0.30)
    path = export_keras(small_model, tmp_path / "m.onnx", spec, verbose=False)
    model = onnx.load(str(path))
    ops = {n.op_type for n in model.graph.node}
    assert ops <= ALLOWED_OPS, f"ops TensorRT may not build: {ops - ALLOWED_OPS}"
    for node in model.graph.node:
        if node.op_type == "Resize":
            mode = next(a.s for a in node.attribute if a.name == "mode")
            assert mode == b"nearest"
    assert (tmp_path / "m.spec.json").is_file()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 128, 320, 3), dtype=np.float32)
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"image": x})))
    ref = small_model(x)
    for name in ("lane_prob", "lane_exist"):
        assert np.abs(got[name] - np.asarray(ref[name])).max() < 1e-4


def test_seg_loss_prefers_the_right_answer():
    from lanecam.tools.train.losses import SegLoss

    loss = SegLoss(5)
    labels = np.zeros((1, 8, 8), np.uint8)
    labels[0, :, 2] = 2
    right = np.full((1, 8, 8, 5), 0.01, np.float32)
    right[..., 0] = 0.96
    right[0, :, 2] = 0.01
    right[0, :, 2, 2] = 0.96
    background_only = np.full((1, 8, 8, 5), 0.01, np.float32)
    background_only[..., 0] = 0.96
    assert float(loss(labels, right)) < 0.5 * float(loss(labels, background_only))
