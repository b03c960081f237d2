"""LaneFCN: a small encoder-decoder FCN for lane slots, built for CPU and TensorRT.

Output 1 (``lane_prob``): per-pixel softmax over background + 4 lane slots (L2, L1, R1, R2) at
half the input resolution. Output 2 (``lane_exist``): per-slot existence probability made the
way the seed question's accepted answer makes a classifier: a 1x1 convolution followed by global
average pooling (no Flatten/Dense), so the network stays fully convolutional.

Only ops that export to ONNX opset 13-17 and that TensorRT 8.6-11 builds: Conv, BatchNorm
(folded at export), ReLU, Add, Concat, nearest UpSampling2D, GlobalAveragePooling, Softmax,
Sigmoid. The coordinate channels are a constant concatenated at the bottleneck; they let the
slot assignment (which line is "L1") depend on where in the image a line is, which a purely
translation-equivariant network can only infer from padding.
"""

from dataclasses import dataclass

import keras
from keras import layers

from lanecam.engines.keras_layers import custom_objects

__all__ = ["LaneFCNConfig", "build_lanefcn", "AddCoords", "CUSTOM_OBJECTS", "V2_CONFIGS",
           "ENCODERS"]


@dataclass(frozen=True)
class LaneFCNConfig:
    """Size knobs of the network (the defaults are the shipped model)."""

    input_height: int = 128
    input_width: int = 320
    num_slots: int = 4
    widths: tuple = (24, 32, 48, 64, 96)   # stem(/2), /2, /4, /8, /16
    decoder_width: int = 32
    dilations: tuple = (2, 4, 8)


# Larger sizes: more width everywhere and a fourth dilation for the context a wide, cluttered
# frame needs; the same blocks, so the same op set. LaneFCN v3, v4 and v5 (bundled) have
# "v2-320"'s widths with the default dilations (lanecam train --recipe v3 / v4 / v5); the
# others are not trained.
V2_CONFIGS = {
    "v2-320": LaneFCNConfig(widths=(32, 48, 64, 96, 160), decoder_width=48,
                            dilations=(2, 4, 8, 16)),
    "v2-384": LaneFCNConfig(input_height=160, input_width=384, widths=(32, 48, 64, 96, 160),
                            decoder_width=48, dilations=(2, 4, 8, 16)),
    "v2-384-lite": LaneFCNConfig(input_height=160, input_width=384,
                                 widths=(24, 32, 56, 96, 160), decoder_width=32,
                                 dilations=(2, 4, 8, 16)),
}

# defined with the runtime's Keras loader, which must know it to load a saved LaneFCN
CUSTOM_OBJECTS = custom_objects()
AddCoords = CUSTOM_OBJECTS["AddCoords"]


def _conv(x, filters, name, stride=1, dilation=1, kernel=3):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", dilation_rate=dilation,
                      use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _sep(x, filters, name, dilation=1):
    """Depthwise-separable conv block: cheap at high resolution."""
    x = layers.DepthwiseConv2D(3, padding="same", dilation_rate=dilation, use_bias=False,
                               name=f"{name}_dw")(x)
    x = layers.BatchNormalization(name=f"{name}_dwbn")(x)
    x = layers.ReLU(name=f"{name}_dwrelu")(x)
    return _conv(x, filters, f"{name}_pw", kernel=1)


ENCODERS = ("lanefcn", "effnet-lite0")


def build_lanefcn(config: LaneFCNConfig = LaneFCNConfig(), encoder: str = "lanefcn",
                  pretrained: bool = True) -> keras.Model:
    """Build the (uncompiled) LaneFCN.

    Input: ``image`` (H, W, 3) RGB float in [0, 1]. Outputs: ``lane_prob`` (H/2, W/2, 1 + K)
    softmax and ``lane_exist`` (K,) sigmoid. ``encoder``: ``"lanefcn"`` (from scratch, sized by
    ``config.widths``) or ``"effnet-lite0"`` (EfficientNet-Lite0 cut at stride 16, with its
    ImageNet weights unless ``pretrained`` is False; ``config.widths[4]`` sizes the context
    blocks). The context blocks, existence head and decoder are the same for both.
    """
    c = config
    if c.input_height % 16 or c.input_width % 16:
        raise ValueError(f"input size must be a multiple of 16, got {c.input_height}x{c.input_width}")
    if encoder not in ENCODERS:
        raise ValueError(f"encoder: expected one of {ENCODERS}, got {encoder!r}")
    inp = keras.Input((c.input_height, c.input_width, 3), name="image")
    if encoder == "effnet-lite0":
        from lanecam.tools.fcn.effnet import build_effnet_lite0_encoder, load_lite0_weights

        model = _head(inp, *build_effnet_lite0_encoder(inp), c)
        if pretrained:
            load_lite0_weights(model)
        return model
    return _head(inp, *_lanefcn_encoder(inp, c), c)


def _lanefcn_encoder(inp, c: LaneFCNConfig):
    """The from-scratch encoder: features at stride 2, 4, 8 and 16."""
    w0, w1, w2, w3, w4 = c.widths
    s1 = _conv(inp, w0, "stem", stride=2)              # /2
    s1 = _sep(s1, w1, "enc1")
    s2 = _conv(s1, w2, "down2", stride=2)              # /4
    s2 = _sep(s2, w2, "enc2")
    s3 = _conv(s2, w3, "down3", stride=2)              # /8
    s3 = _sep(s3, w3, "enc3")
    b = _conv(s3, w4, "down4", stride=2)               # /16
    return s1, s2, s3, b


def _head(inp, s1, s2, s3, b, c: LaneFCNConfig) -> keras.Model:
    """Context blocks, existence head and decoder on an encoder's stride 2/4/8/16 features."""
    w4 = c.widths[4]
    b = AddCoords(name="coords")(b)
    b = _conv(b, w4, "ctx0", kernel=1)
    for i, d in enumerate(c.dilations):                # wide context: which line is which slot
        b = layers.Add(name=f"ctx{i + 1}_add")([b, _sep(b, w4, f"ctx{i + 1}", dilation=d)])

    # existence head: 1x1 conv + global pooling, no Dense
    e = layers.Conv2D(c.num_slots, 1, name="exist_conv")(b)
    e = layers.GlobalAveragePooling2D(name="exist_pool")(e)
    exist = layers.Activation("sigmoid", name="lane_exist")(e)

    dw = c.decoder_width
    x = _conv(b, dw, "dec4", kernel=1)
    for name, skip in (("dec3", s3), ("dec2", s2), ("dec1", s1)):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
        x = layers.Add(name=f"{name}_add")([x, _conv(skip, dw, f"{name}_skip", kernel=1)])
        x = _sep(x, dw, name)
    logits = layers.Conv2D(1 + c.num_slots, 1, name="seg_logits")(x)
    prob = layers.Softmax(axis=-1, name="lane_prob")(logits)
    return keras.Model(inp, {"lane_prob": prob, "lane_exist": exist}, name="lanefcn")
