"""``convolutionalize()``: load, analyse, build, check; each step also usable alone
(``graph.analyse``, ``build.build_convolutional``, ``verify``)."""

import os
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.tools.convolutionalize.build import build_convolutional
from lanecam.tools.convolutionalize.graph import HeadPlan, analyse
from lanecam.tools.convolutionalize.verify import random_images, same_size_diff, window_diff

__all__ = ["ConversionResult", "ConversionCheckError", "convolutionalize", "load_classifier"]


class ConversionCheckError(LanecamError):
    """The convolutional model does not reproduce the classifier within tolerance."""


@dataclass
class ConversionResult:
    """What ``convolutionalize`` made and measured.

    Attributes:
        model: the convolutional Keras 3 model at the requested input size.
        plan: the trunk/head analysis of the source.
        same_size_diff: max |conv - classifier| on the classifier's input size.
        window_diff: max |map cell - classifier on its window| on the requested size, None when
            not measured (original size, free size, or a padded trunk).
        window: (H, W) of one window (the classifier's input size).
        stride: (sy, sx) pixels between map cells.
        output_shape: (oh, ow, classes) of the map (None where the size is free).
        notes: human-readable remarks (why the window check was skipped...).
    """

    model: object
    plan: HeadPlan
    same_size_diff: float
    window_diff: Optional[float]
    window: Tuple[int, int]
    stride: Tuple[float, float]
    output_shape: tuple
    notes: List[str] = field(default_factory=list)


def load_classifier(model_or_path):
    """(model, kind) from a path (.keras/.h5; Keras 2 .h5 through tf_keras) or a model object."""
    from lanecam.engines.keras_loader import load_model

    loaded = load_model(model_or_path)
    if loaded.kind == "saved_model":
        raise InputError(f"{loaded.source}: a SavedModel has no Keras layers to convert; "
                         "give the .keras or .h5 file")
    return loaded.obj, loaded.kind


def _classify(model):
    return lambda x: model(x, training=False)


def _int_stride(plan: HeadPlan) -> Optional[Tuple[int, int]]:
    sy, sx = plan.stride
    if sy.denominator != 1 or sx.denominator != 1:
        return None
    return int(sy), int(sx)


def convolutionalize(model_or_path, input_size: Optional[Tuple] = None, atol: float = 1e-5,
                     check_count: int = 4, seed: int = 0) -> ConversionResult:
    """Convert a Flatten -> Dense classifier into a fully convolutional model and check it.

    Args:
        model_or_path: a Keras 3 / tf_keras model, or a .keras/.h5 path.
        input_size: (H, W) of the new model's input (>= the classifier's), None for the
            classifier's own size, (None, None) for any size.
        atol: largest accepted |difference| on the classifier's size (and on windows).
        check_count: random images in the same-size check.

    Raises:
        InputError: the model is not a convertible classifier (the message names the layer).
        ConversionCheckError: the converted model does not match within ``atol``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    model, kind = load_classifier(model_or_path)
    plan = analyse(model, kind)
    h, w, c = plan.input_shape
    same = build_convolutional(plan, None)
    images = random_images(check_count, plan.input_shape, seed)
    diff = same_size_diff(_classify(model), same, images)
    if not diff <= atol:
        raise ConversionCheckError(f"converted model differs from '{model.name}' by {diff:.3g} "
                                   f"(> {atol:g}) on its {h}x{w} input")
    notes: List[str] = []
    stride = _int_stride(plan)
    if input_size is None or tuple(input_size) == (h, w):
        conv, wdiff = same, None
    else:
        conv = build_convolutional(plan, input_size)
        wdiff = None
        if None in tuple(input_size):
            notes.append("input size left free: the window check needs a fixed size")
        elif stride is None:
            notes.append(f"stride {plan.stride} is not a whole number of pixels: no window check")
        elif not plan.valid_only:
            notes.append("window check skipped: padded trunk layers ("
                         + ", ".join(plan.padded_layers) + ") see their neighbours' pixels at a "
                         "window's border, so cells only approximate the classifier on windows")
        else:
            big = random_images(1, (input_size[0], input_size[1], c), seed + 1)[0]
            wdiff = window_diff(_classify(model), conv, big, (h, w), stride)
            if not wdiff <= atol:
                raise ConversionCheckError(f"dense map cells differ from '{model.name}' on "
                                           f"their windows by {wdiff:.3g} (> {atol:g})")
    out_shape = tuple(None if d is None else int(d) for d in conv.outputs[0].shape[1:])
    stride_f = tuple(float(s) for s in plan.stride)
    return ConversionResult(conv, plan, diff, wdiff, (h, w), stride_f, out_shape, notes)
