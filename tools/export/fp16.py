"""FP32 ONNX -> FP16-typed ONNX with FP32 inputs and outputs.

TensorRT 11 removed ``BuilderFlag.FP16``: precision comes from the ONNX types themselves, so the
FP16 variant is a graph whose weights and activations are float16, with a Cast after each input
and before each output so callers keep feeding and reading float32.
"""

import numpy as np

from lanecam.pipeline.lazy import require

__all__ = ["convert_to_fp16", "KEEP_FP32_INPUTS"]

# (op_type, input index) that ONNX requires to stay float32 whatever the data type is
KEEP_FP32_INPUTS = {("Resize", 1), ("Resize", 2), ("Upsample", 1)}
_FP16_MAX = float(np.finfo(np.float16).max)


def _to_fp16_array(arr: np.ndarray) -> np.ndarray:
    # saturate instead of overflowing to inf: large constants (masks, -1e9 paddings) stay finite
    return np.clip(arr, -_FP16_MAX, _FP16_MAX).astype(np.float16)


def _fp32_only_names(graph) -> set:
    names = set()
    for node in graph.node:
        for i, name in enumerate(node.input):
            if (node.op_type, i) in KEEP_FP32_INPUTS:
                names.add(name)
    return names


def convert_to_fp16(model):
    """Return an FP16-typed copy of the FP32 ``onnx.ModelProto`` ``model``; I/O stays FP32.

    Float initializers and Constant tensors become float16 (saturated to the float16 range),
    ``Cast(to=FLOAT)`` becomes ``Cast(to=FLOAT16)``, except for tensors ONNX requires in float32
    (Resize scales/roi). Shapes are re-inferred and the result passes the ONNX checker.
    """
    onnx = require("onnx", "train", "the FP16 variant")
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    keep = _fp32_only_names(graph)

    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and init.name not in keep:
            init.CopyFrom(numpy_helper.from_array(_to_fp16_array(numpy_helper.to_array(init)),
                                                  init.name))
    for node in graph.node:
        if node.op_type == "Constant" and node.output[0] not in keep:
            for attr in node.attribute:
                if attr.name == "value" and attr.t.data_type == TensorProto.FLOAT:
                    attr.t.CopyFrom(numpy_helper.from_array(
                        _to_fp16_array(numpy_helper.to_array(attr.t)), attr.t.name))
        if node.op_type == "Cast" and node.output[0] not in keep:
            for attr in node.attribute:
                if attr.name == "to" and attr.i == TensorProto.FLOAT:
                    attr.i = TensorProto.FLOAT16

    new_nodes = []
    for value in graph.input:
        if value.type.tensor_type.elem_type != TensorProto.FLOAT:
            continue
        half = value.name + "_fp16"
        for node in graph.node:
            for i, name in enumerate(node.input):
                if name == value.name:
                    node.input[i] = half
        new_nodes.append(helper.make_node("Cast", [value.name], [half], to=TensorProto.FLOAT16,
                                          name=value.name + "_to_fp16"))
    tail = []
    for value in graph.output:
        if value.type.tensor_type.elem_type != TensorProto.FLOAT:
            continue
        half = value.name + "_fp16"
        for node in graph.node:
            for i, name in enumerate(node.output):
                if name == value.name:
                    node.output[i] = half
            for i, name in enumerate(node.input):
                if name == value.name:  # an output also consumed inside the graph
                    node.input[i] = half
        tail.append(helper.make_node("Cast", [half], [value.name], to=TensorProto.FLOAT,
                                     name=value.name + "_to_fp32"))
    nodes = new_nodes + list(graph.node) + tail
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]  # stale float types: infer again
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model
