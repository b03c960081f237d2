"""A tiny ONNX heatmap model built with onnx.helper (no binaries): NHWC input -> mean of each
window (AveragePool, kernel = window, stride) -> 2 classes: logit(lane) = gain * (mean red or
first channel - 0.5), logit(other) = 0. With ``probabilities`` the graph applies the softmax over
the class channels itself; otherwise it outputs logits."""

import numpy as np

from lanecam.pipeline.heatmap.spec import HeatmapSpec


def make_heatmap_model(path, spec: HeatmapSpec, gain: float = 40.0, embed=True,
                       out_hw=None):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rows, cols = out_hw or spec.map_size()
    (wh, ww), (sy, sx) = spec.window, spec.stride
    weight = np.zeros((2, 3, 1, 1), np.float32)
    weight[1, 0, 0, 0] = gain  # channel 0 of the input, as the model sees it
    bias = np.array([0.0, -0.5 * gain], np.float32)
    last = "scores" if spec.probabilities else "logits_nhwc"
    nodes = [
        helper.make_node("Transpose", [spec.input_name], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("AveragePool", ["nchw"], ["pooled"], kernel_shape=[wh, ww],
                         strides=[sy, sx]),
        helper.make_node("Conv", ["pooled", "W", "B"], ["logits"]),
        helper.make_node("Transpose", ["logits"], ["logits_nhwc"], perm=[0, 2, 3, 1]),
    ]
    if spec.probabilities:
        nodes.append(helper.make_node("Softmax", ["logits_nhwc"], ["scores"], axis=-1))
    graph = helper.make_graph(
        nodes, "tiny_heatmap",
        [helper.make_tensor_value_info(spec.input_name, TensorProto.FLOAT,
                                       [1, spec.input_height, spec.input_width, 3])],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, [1, rows, cols, 2])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if embed:
        helper.set_model_props(model, spec.to_metadata_props())
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
