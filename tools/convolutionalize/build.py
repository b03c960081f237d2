"""Build the fully convolutional Keras 3 model from a ``HeadPlan``, with the weights transferred.

The trunk is replayed layer by layer with fresh Keras 3 layers (so a tf_keras source becomes a
Keras 3 model too) on an input of the requested size. The head becomes convolutions:

- the first Dense reads the Flatten of an (h, w, c) map: its kernel (h*w*c, units) is, in the
  channels_last Flatten order (row-major over h, w, c), exactly a Conv2D kernel
  (h, w, c, units) reshaped: ``kernel.reshape(h, w, c, units)``;
- every later Dense is a 1x1 Conv2D: ``kernel.reshape(1, 1, in, units)``;
- activations, softmax and BatchNormalization act on the last axis, which is now the channel
  axis of every map cell; Dropout stays (it is the identity at inference).
"""

from typing import Optional, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require
from lanecam.tools.convolutionalize.graph import HeadPlan

__all__ = ["build_convolutional", "dense_to_conv_kernel"]


def dense_to_conv_kernel(kernel: np.ndarray, feature_shape: Tuple[int, int, int]) -> np.ndarray:
    """A Dense kernel (h*w*c, units) that reads a channels_last Flatten of an (h, w, c) map as
    the equivalent Conv2D kernel (h, w, c, units). Raises InputError on a size mismatch."""
    h, w, c = (int(v) for v in feature_shape)
    if kernel.ndim != 2 or kernel.shape[0] != h * w * c:
        raise InputError(f"Dense kernel of shape {kernel.shape}: expected ({h * w * c}, units) "
                         f"for a {h}x{w}x{c} feature map")
    return kernel.reshape(h, w, c, kernel.shape[1])


def _keras():
    return require("keras", "train", "convolutionalizing a Keras model")


def _plain(value):
    """tf_keras configs hold ListWrapper/tuples; Keras 3 wants plain lists and ints."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListWrapper":
        return [_plain(v) for v in value]
    return value


_LEGACY_KEYS = ("batch_input_shape", "input_shape", "batch_size", "input_dim")
_INIT_KEYS = ("initializer", "regularizer", "constraint")


def _fresh_layer(layer, kind: str, **overrides):
    """A new Keras 3 layer with ``layer``'s config (a tf_keras layer is translated)."""
    keras = _keras()
    cfg = dict(layer.get_config())
    for key in _LEGACY_KEYS:
        cfg.pop(key, None)
    cfg.update(overrides)
    if kind == "keras3":
        return type(layer).from_config(cfg)
    cls = getattr(keras.layers, type(layer).__name__, None)
    if cls is None:
        raise InputError(f"layer '{layer.name}' ({type(layer).__name__}): no Keras 3 layer of "
                         "that class to rebuild it with")
    cfg = _plain(cfg)
    if isinstance(cfg.get("axis"), list) and len(cfg["axis"]) == 1:
        cfg["axis"] = cfg["axis"][0]
    try:
        return cls.from_config(cfg)
    except Exception:  # noqa: BLE001 - retry without training-only settings (weights are set)
        slim = {k: v for k, v in cfg.items() if not any(k.endswith(s) for s in _INIT_KEYS)}
        try:
            return cls.from_config(slim)
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"layer '{layer.name}' ({type(layer).__name__}): its Keras 2 "
                             f"config does not rebuild in Keras 3 ({exc})") from None


def _set_weights(new, old) -> None:
    weights = old.get_weights()
    if weights:
        new.set_weights(weights)


def _replay_trunk(plan: HeadPlan, inp):
    produced = {plan.input_name: [inp]}
    for op in plan.trunk:
        layer = op.layer
        args = [produced[name][idx] for name, idx in op.inputs]
        new = _fresh_layer(layer, plan.kind)
        try:
            out = new(args if op.as_list else args[0])
        except Exception as exc:  # noqa: BLE001 - name the layer instead of a deep traceback
            raise InputError(f"layer '{layer.name}' ({type(layer).__name__}): cannot run on the "
                             f"new input size {tuple(inp.shape)[1:3]} ({str(exc)[:200]})") from None
        _set_weights(new, layer)
        produced[layer.name] = out if isinstance(out, (list, tuple)) else [out]
    name, idx = plan.feature
    return produced[name][idx]


def _dense_as_conv(layer, x, kernel_hw: Tuple[int, int], feature_shape):
    keras = _keras()
    cfg = layer.get_config()
    weights = layer.get_weights()
    if kernel_hw == (1, 1):
        kernel = weights[0].reshape(1, 1, *weights[0].shape)
    else:
        kernel = dense_to_conv_kernel(weights[0], feature_shape)
    activation = cfg.get("activation", "linear")
    try:
        activation = keras.activations.get(activation)
    except Exception:  # noqa: BLE001
        raise InputError(f"layer '{layer.name}' (Dense): activation {activation!r} is not a "
                         "Keras activation") from None
    conv = keras.layers.Conv2D(int(layer.units), kernel_hw, padding="valid",
                               activation=activation, use_bias=bool(cfg.get("use_bias", True)),
                               name=f"{layer.name}_conv")
    y = conv(x)
    conv.set_weights([kernel] + weights[1:])
    return y


def _head_layer(layer, x, kind: str):
    name = type(layer).__name__
    overrides = {}
    if name in ("Softmax", "BatchNormalization"):
        overrides["axis"] = -1  # the class / feature axis is the channel axis now
    new = _fresh_layer(layer, kind, **overrides)
    y = new(x)
    _set_weights(new, layer)
    return y


def build_convolutional(plan: HeadPlan, input_size: Optional[Tuple] = None):
    """The convolutionalized Keras 3 model.

    Args:
        plan: from ``graph.analyse``.
        input_size: (H, W) of the new model's input; None for the original size (the output
            is then (N, 1, 1, classes)); (None, None) accepts any size.

    Returns:
        A Keras 3 ``Model`` mapping (N, H, W, C) to (N, oh, ow, classes) class scores per
        window position.
    """
    keras = _keras()
    h, w, c = plan.input_shape
    if input_size is not None:
        h, w = input_size
        if h is not None and w is not None and (h < plan.input_shape[0] or w < plan.input_shape[1]):
            raise InputError(f"--input-size {h}x{w}: expected at least the classifier's input "
                             f"size {plan.input_shape[0]}x{plan.input_shape[1]}")
    inp = keras.Input((h, w, c), name=plan.input_name)
    x = _replay_trunk(plan, inp)
    fh, fw, _ = plan.feature_shape
    first = True
    for layer in plan.head:
        if type(layer).__name__ == "Dense":
            x = _dense_as_conv(layer, x, (fh, fw) if first else (1, 1), plan.feature_shape)
            first = False
        else:
            x = _head_layer(layer, x, plan.kind)
    return keras.Model(inp, x, name=f"{plan.model.name}_conv")
