"""Tiny ONNX lane models built with onnx.helper, shaped per a ModelSpec (no binaries in the repo).

The graph: NHWC input -> 1x1 conv to the spec's classes -> softmax over channels (the
``seg_output``, NHWC, at input resolution) and a sigmoid of the per-class mean of the slot
channels (the ``exist_output``, shape (1, K)). Deterministic weights, so outputs can be checked.
"""

from pathlib import Path

import numpy as np

from lanecam.engines.modelspec import ModelSpec, spec_path_for


def conv_weights(spec: ModelSpec) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, (spec.num_classes, 3, 1, 1)).astype(np.float32)


def reference_outputs(spec: ModelSpec, x: np.ndarray):
    """What the tiny graph computes for an NHWC batch-1 input, in numpy: (prob, exist)."""
    w = conv_weights(spec)[:, :, 0, 0]               # (classes, 3)
    logits = x[0] @ w.T                               # (h, w, classes)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    prob = e / e.sum(-1, keepdims=True)
    exist = 1 / (1 + np.exp(-prob.mean((0, 1))[1:]))
    return prob[None], exist[None]


def make_model(path, spec: ModelSpec, embed_spec=True, input_name=None, input_shape=None,
               input_batch="N"):
    """Write a tiny lane_slots model for ``spec`` to ``path``; returns the path.

    ``input_name`` / ``input_shape`` override what the spec says (to make mismatches);
    ``input_batch`` "N" gives a symbolic batch dim, 1 a fixed one.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h, w, c = spec.input_height, spec.input_width, spec.num_classes
    name = input_name or spec.input_name
    shape = list(input_shape or [input_batch, h, w, 3])
    nodes = [
        helper.make_node("Transpose", [name], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["nchw", "W"], ["logits"]),
        helper.make_node("Transpose", ["logits"], ["logits_nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("Softmax", ["logits_nhwc"], [spec.seg_output], axis=-1),
        helper.make_node("ReduceMean", [spec.seg_output], ["mean"], axes=[1, 2], keepdims=0),
        helper.make_node("Slice", ["mean", "starts", "ends", "axes"], ["slots"]),
        helper.make_node("Sigmoid", ["slots"], [spec.exist_output]),
    ]
    inits = [
        numpy_helper.from_array(conv_weights(spec), "W"),
        numpy_helper.from_array(np.array([1], np.int64), "starts"),
        numpy_helper.from_array(np.array([c], np.int64), "ends"),
        numpy_helper.from_array(np.array([1], np.int64), "axes"),
    ]
    graph = helper.make_graph(
        nodes, "tiny_lanes",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(spec.seg_output, TensorProto.FLOAT, [input_batch, h, w, c]),
         helper.make_tensor_value_info(spec.exist_output, TensorProto.FLOAT, [input_batch, c - 1])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if embed_spec:
        helper.set_model_props(model, spec.to_metadata_props())
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def make_keras_model(path, spec: ModelSpec, height=None, width=None, save_spec=True):
    """The tiny ONNX graph in Keras (needs Keras): 1x1 conv (no bias) -> channel softmax, and
    the existence output as sigmoid(mean of the slot channels), the slice made by a fixed Dense
    (no Lambda, so the file loads with safe_mode). Saved to ``path`` (with its sidecar spec
    when ``save_spec``); returns the path."""
    import keras

    h, w, c = height or spec.input_height, width or spec.input_width, spec.num_classes
    inp = keras.Input((h, w, 3), name=spec.input_name)
    conv = keras.layers.Conv2D(c, 1, use_bias=False)
    prob = keras.layers.Softmax(axis=-1, name="prob")(conv(inp))
    mean = keras.layers.GlobalAveragePooling2D()(prob)
    pick = keras.layers.Dense(c - 1, activation="sigmoid", name="exist")
    exist = pick(mean)
    model = keras.Model(inp, [prob, exist])
    conv.set_weights([conv_weights(spec).transpose(2, 3, 1, 0)])  # OIHW -> HWIO
    pick.set_weights([np.eye(c, c - 1, k=-1, dtype=np.float32), np.zeros(c - 1, np.float32)])
    model.save(str(path))
    if save_spec:
        spec.save(spec_path_for(path))
    return Path(path)


def tiny_spec(**changes) -> ModelSpec:
    """A small lane_slots spec (32x64 input) for fast tests."""
    return ModelSpec(name="tiny", input_height=32, input_width=64).replace(**changes)
