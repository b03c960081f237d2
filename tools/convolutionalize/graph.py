"""Read a Keras classifier as a trunk (what feeds the Flatten) and a head (Flatten -> Dense ...),
or refuse it with the layer's name and why.

Works on Keras 3 and tf_keras (Keras 2) models alike: only ``layers``, ``inputs``, ``outputs``,
``layer.input``/``output``, ``get_config()`` and ``_keras_history`` are used, which both have.
Nothing here imports TensorFlow; the model object is handed in.
"""

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Dict, List, Optional, Tuple

from lanecam.pipeline.errors import InputError

__all__ = ["HeadPlan", "TrunkOp", "analyse", "HEAD_LAYERS", "ELEMENTWISE_HEAD_LAYERS"]

# Layers allowed after the first Dense: they act on the last axis or elementwise, so they act
# the same on a (N, units) vector and on every cell of a (N, h, w, units) map.
ELEMENTWISE_HEAD_LAYERS = ("Dropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax",
                           "GaussianNoise", "GaussianDropout", "AlphaDropout")
HEAD_LAYERS = ("Dense", "BatchNormalization") + ELEMENTWISE_HEAD_LAYERS
# Layers whose padding breaks the sliding-window identity at the border of a larger input
_BORDER_LAYERS = ("ZeroPadding2D", "Cropping2D")


@dataclass
class TrunkOp:
    """One trunk layer and where its inputs come from: ``(layer name, output index)`` each;
    ``as_list`` when the layer takes a list (merge layers)."""

    layer: object
    inputs: List[Tuple[str, int]]
    as_list: bool


@dataclass
class HeadPlan:
    """A convertible classifier.

    Attributes:
        model: the source model; kind: "keras3" or "tf_keras".
        input_name: the image input's layer name; input_shape: (H, W, C) it was built for.
        trunk: layers up to the Flatten's input, in topological order.
        feature: ``(layer name, output index)`` of the tensor the Flatten reads.
        feature_shape: (h, w, c) of that tensor at the original input size.
        flatten: the Flatten layer; head: the layers after it, in order (a chain).
        stride: (sy, sx) input pixels per feature-map cell (product of the trunk's strides).
        valid_only: every padded trunk layer uses ``valid`` padding (and none pads or crops),
            so each cell of a dense map equals the classifier on its own window exactly.
        num_classes: units of the last Dense.
    """

    model: object
    kind: str
    input_name: str
    input_shape: Tuple[int, int, int]
    trunk: List[TrunkOp]
    feature: Tuple[str, int]
    feature_shape: Tuple[int, int, int]
    flatten: object
    head: List[object]
    stride: Tuple[Fraction, Fraction]
    valid_only: bool
    num_classes: int
    padded_layers: List[str] = field(default_factory=list)

    def describe_head(self) -> str:
        """``flatten -> dense(128) -> dropout -> dense_1(2)``."""
        parts = [self.flatten.name]
        for layer in self.head:
            units = getattr(layer, "units", None)
            parts.append(f"{layer.name}({units})" if units is not None else layer.name)
        return " -> ".join(parts)


def _cls(layer) -> str:
    return type(layer).__name__


def _refuse(layer, why: str):
    raise InputError(f"layer '{layer.name}' ({_cls(layer)}): {why}")


def _flat(x) -> list:
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _flat(item)]
    if isinstance(x, dict):
        return [t for k in sorted(x) for t in _flat(x[k])]
    return [x]


def _history(tensor) -> Tuple[object, int]:
    hist = tensor._keras_history  # (layer, node_index, tensor_index) in Keras 2 and 3
    return hist[0], int(hist[2])


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def _inbound(layer) -> Tuple[List[Tuple[object, int]], bool]:
    nodes = getattr(layer, "_inbound_nodes", [])
    if len(nodes) > 1:
        _refuse(layer, "is called more than once (a shared layer); call each layer once")
    inp = layer.input
    srcs = [_history(t) for t in _flat(inp)]
    return srcs, isinstance(inp, (list, tuple))


def _graph(model) -> Tuple[List[object], Dict[str, List[Tuple[object, int]]], Dict[str, bool]]:
    """Layers in topological order with their inputs; a Sequential is a chain."""
    layers = [ly for ly in model.layers if _cls(ly) != "InputLayer"]
    inputs: Dict[str, List[Tuple[object, int]]] = {}
    as_list: Dict[str, bool] = {}
    if _cls(model) == "Sequential":
        input_layer = _history(model.inputs[0])[0]
        prev = input_layer
        for ly in layers:
            inputs[ly.name], as_list[ly.name] = [(prev, 0)], False
            prev = ly
        return layers, inputs, as_list
    for ly in layers:
        srcs, is_list = _inbound(ly)
        inputs[ly.name], as_list[ly.name] = srcs, is_list
    return layers, inputs, as_list


def _model_io(model, kind: str) -> Tuple[str, Tuple[int, int, int], object]:
    ins, outs = list(model.inputs or []), list(model.outputs or [])
    if len(ins) != 1:
        raise InputError(f"model '{model.name}': expected one image input, got {len(ins)}")
    if len(outs) != 1:
        raise InputError(f"model '{model.name}': expected one output (the class scores), "
                         f"got {len(outs)}")
    shape = _shape(ins[0])
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        raise InputError(f"model '{model.name}': expected an image input (N, H, W, C) of known "
                         f"size, got {shape}")
    return _history(ins[0])[0].name, shape[1:], _history(outs[0])[0]


def _strides(layer) -> Tuple[Fraction, Fraction]:
    cfg = layer.get_config()
    if _cls(layer).startswith("UpSampling"):
        size = cfg.get("size", (1, 1))
        return Fraction(1, int(size[0])), Fraction(1, int(size[1]))
    strides = cfg.get("strides") or cfg.get("pool_size")
    if strides is None or _cls(layer).startswith("Global"):
        return Fraction(1), Fraction(1)
    strides = list(strides) if isinstance(strides, (list, tuple)) else [strides, strides]
    return Fraction(int(strides[0])), Fraction(int(strides[-1]))


def _check_trunk_layer(layer) -> None:
    cfg = layer.get_config()
    if cfg.get("data_format") == "channels_first":
        _refuse(layer, "uses channels_first; only channels_last models can be convolutionalized "
                       "(the Dense weights follow the channels_last Flatten order)")


def _head_chain(model, flatten, output_layer, consumers) -> List[object]:
    head, layer = [], flatten
    while layer is not output_layer:
        nxt = consumers.get(layer.name, [])
        if len(nxt) != 1:
            _refuse(layer, f"feeds {len(nxt)} layers; the head after Flatten must be a single "
                           "chain ending at the model's output")
        layer = nxt[0]
        head.append(layer)
    return head


def _check_head(head, flatten) -> int:
    dense = [ly for ly in head if _cls(ly) == "Dense"]
    if not dense:
        _refuse(flatten, "is not followed by a Dense layer; nothing to convolutionalize")
    seen_dense = False
    for ly in head:
        name = _cls(ly)
        if name not in HEAD_LAYERS:
            _refuse(ly, f"cannot follow Flatten in a convertible head (allowed: "
                        f"{', '.join(HEAD_LAYERS)})")
        cfg = ly.get_config()
        if name == "BatchNormalization":
            if not seen_dense:
                _refuse(ly, "normalises each flattened feature on its own; as a convolution it "
                            "would share statistics per channel, so it must come after a Dense")
            axis = cfg.get("axis")
            axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
            if axis not in (-1, 1):
                _refuse(ly, f"normalises axis {axis}; expected the feature axis (-1)")
        if name == "Softmax" and cfg.get("axis", -1) not in (-1, 1, [-1], [1]):
            _refuse(ly, f"softmax over axis {cfg.get('axis')}; expected the class axis (-1)")
        if name == "Dense":
            seen_dense = True
            rank = len(_shape(ly.input))
            if rank != 2:
                _refuse(ly, f"reads a rank-{rank} tensor; expected the (N, features) vector")
    return int(dense[-1].units)


def analyse(model, kind: str = "keras3") -> HeadPlan:
    """Split ``model`` into trunk and head, or raise InputError naming the offending layer.

    Args:
        model: a built Keras 3 or tf_keras model (Sequential or functional).
        kind: "keras3" or "tf_keras" (which library the model's layers come from).
    """
    input_name, input_shape, output_layer = _model_io(model, kind)
    layers, inputs, as_list = _graph(model)
    flattens = [ly for ly in layers if _cls(ly) == "Flatten"]
    if not flattens:
        pooled = [ly.name for ly in layers if _cls(ly).startswith("Global")]
        hint = (f" (its head pools with {pooled[0]}: it is already convolutional up to "
                "the pooling)") if pooled else ""
        raise InputError(f"model '{model.name}': no Flatten layer; expected a head Flatten -> "
                         f"Dense ... -> Dense{hint}")
    if len(flattens) > 1:
        _refuse(flattens[1], "is a second Flatten; expected exactly one, before the Dense head")
    flatten = flattens[0]
    if flatten.get_config().get("data_format") == "channels_first":
        _refuse(flatten, "flattens in channels_first order; expected channels_last")
    consumers: Dict[str, List[object]] = {}
    for ly in layers:
        for src, _ in inputs[ly.name]:
            consumers.setdefault(src.name, []).append(ly)
    head = _head_chain(model, flatten, output_layer, consumers)
    num_classes = _check_head(head, flatten)
    (src, idx), = inputs[flatten.name]
    feature_shape = _shape(flatten.input)[1:]
    if len(feature_shape) != 3 or any(d is None for d in feature_shape):
        _refuse(flatten, f"reads a tensor of shape {feature_shape}; expected a (h, w, c) feature "
                         "map of known size")
    head_names = {ly.name for ly in head} | {flatten.name}
    trunk = []
    for ly in layers:
        if ly.name in head_names:
            continue
        _check_trunk_layer(ly)
        srcs = [(s.name, i) for s, i in inputs[ly.name]]
        trunk.append(TrunkOp(ly, srcs, as_list[ly.name]))
    stride, valid_only, padded = _trunk_geometry(trunk, input_name, (src.name, idx))
    return HeadPlan(model=model, kind=kind, input_name=input_name, input_shape=input_shape,
                    trunk=trunk, feature=(src.name, idx), feature_shape=feature_shape,
                    flatten=flatten, head=head, stride=stride, valid_only=valid_only,
                    num_classes=num_classes, padded_layers=padded)


def _trunk_geometry(trunk: List[TrunkOp], input_name: str, feature: Tuple[str, int]):
    """Stride from the input to the feature map (along first inputs), and whether the trunk is
    free of padding (the sliding-window identity is then exact)."""
    by_name = {op.layer.name: op for op in trunk}
    sy, sx = Fraction(1), Fraction(1)
    name = feature[0]
    while name != input_name and name in by_name:
        op = by_name[name]
        dy, dx = _strides(op.layer)
        sy, sx = sy * dy, sx * dx
        name = op.inputs[0][0]
    padded = [op.layer.name for op in trunk
              if op.layer.get_config().get("padding", "valid") != "valid"
              or _cls(op.layer) in _BORDER_LAYERS]
    return (sy, sx), not padded, padded
