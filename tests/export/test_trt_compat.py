"""The TensorRT compatibility scan on hand-built ONNX graphs (no TensorFlow needed)."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from lanecam.pipeline.errors import InputError  # noqa: E402
from lanecam.tools.export.trt_compat import make_tensorrt_compatible  # noqa: E402


def resize_model(scales, coord="tf_half_pixel_for_nn", mode="nearest", op="Resize", domain=""):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 7])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.zeros(0, np.float32), "roi"),
             numpy_helper.from_array(np.asarray(scales, np.float32), "scales")]
    node = helper.make_node(op, ["x", "roi", "scales"], ["y"], name="up1", domain=domain,
                            coordinate_transformation_mode=coord, mode=mode, nearest_mode="floor")
    graph = helper.make_graph([node], "g", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 3, 2], [1, 1, 4, 1]])
def test_tf_half_pixel_nearest_rewritten_exactly(scales):
    model = resize_model(scales)
    x = np.random.default_rng(0).random((1, 2, 5, 7), dtype=np.float32)
    before = run(model, x)
    fixes = make_tensorrt_compatible(model)
    assert len(fixes) == 1 and "up1" in fixes[0]
    attrs = {a.name: a.s.decode() for a in model.graph.node[0].attribute if a.type == a.STRING}
    assert attrs["coordinate_transformation_mode"] == "asymmetric"
    assert np.array_equal(run(model, x), before)


@pytest.mark.parametrize("kwargs, match", [
    (dict(scales=[1, 1, 1.5, 1.5]), "non-integer scales"),
    (dict(scales=[1, 1, 2, 2], coord="tf_crop_and_resize", mode="linear"), "not supported"),
    (dict(scales=[1, 1, 2, 2], domain="com.microsoft"), "custom domain"),
    (dict(scales=[1, 1, 2, 2], op="Unique"), "not supported by TensorRT"),
])
def test_refused_nodes_are_named(kwargs, match):
    with pytest.raises(InputError, match=match) as info:
        make_tensorrt_compatible(resize_model(**kwargs))
    assert "up1" in str(info.value)


def test_accepted_modes_untouched():
    model = resize_model([1, 1, 2, 2], coord="half_pixel", mode="linear")
    before = model.SerializeToString()
    assert make_tensorrt_compatible(model) == []
    assert model.SerializeToString() == before
