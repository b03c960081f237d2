"""The convolutional model as an ONNX heatmap model for ``lanecam run --heatmap``: tf2onnx
conversion (``lanecam.tools.export.keras_io``), the ``HeatmapSpec`` in ``metadata_props``, and a check
of ONNX Runtime against Keras."""

from pathlib import Path

import numpy as np

from lanecam.engines.keras_loader import load_model
from lanecam.engines.ort_session import make_session
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.heatmap.spec import HeatmapSpec
from lanecam.pipeline.lazy import require
from lanecam.tools.convolutionalize.convert import ConversionCheckError, ConversionResult

__all__ = ["export_heatmap_onnx", "outputs_probabilities", "heatmap_spec_for"]

_SKIP = ("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout")


def outputs_probabilities(plan) -> bool:
    """Whether the classifier's last activation is a softmax or sigmoid (outputs are then
    probabilities per cell, not logits)."""
    for layer in reversed(plan.head):
        name = type(layer).__name__
        if name in _SKIP:
            continue
        if name == "Softmax":
            return True
        act = layer.get_config().get("activation")
        act = act if isinstance(act, str) else getattr(act, "__name__", str(act))
        return act in ("softmax", "sigmoid")
    return False


def heatmap_spec_for(result: ConversionResult, input_name: str, **prep) -> HeatmapSpec:
    """The HeatmapSpec of a converted model at a fixed input size; ``prep``: color, scale,
    crop_top, crop_bottom, class_index, name."""
    oh, ow, classes = result.output_shape
    h, w = result.model.inputs[0].shape[1:3]
    if None in (oh, ow, h, w):
        raise InputError("--onnx needs a fixed --input-size HxW (the heatmap model's size)")
    sy, sx = result.stride
    if sy != int(sy) or sx != int(sx):
        raise InputError(f"--onnx: stride {sy}x{sx} is not a whole number of pixels")
    if prep.get("class_index", 1) >= classes:
        raise InputError(f"--lane-class {prep.get('class_index')}: the classifier has only "
                         f"{classes} classes")
    return HeatmapSpec(input_name=input_name, input_height=int(h), input_width=int(w),
                       window=tuple(int(v) for v in result.window),
                       stride=(int(sy), int(sx)),
                       probabilities=outputs_probabilities(result.plan), **prep)


def export_heatmap_onnx(result: ConversionResult, out_path, atol: float = 1e-4,
                        **prep) -> float:
    """Write ``result.model`` as ONNX with its HeatmapSpec; returns max |ONNX - Keras|.

    Raises:
        InputError: the model is not an RGB/BGR image model of fixed size.
        ConversionCheckError: ONNX Runtime disagrees with Keras by more than ``atol``.
    """
    from lanecam.tools.export.keras_io import convert

    onnx = require("onnx", "train", "writing the heatmap ONNX model")
    channels = result.plan.input_shape[2]
    if channels != 3:
        raise InputError(f"--onnx: the heatmap overlay feeds colour frames; the classifier "
                         f"takes {channels} channels")
    h, w = result.model.inputs[0].shape[1:3]
    proto = convert(load_model(result.model), (1, h, w, 3), "image", opset=17, nchw=False)
    spec = heatmap_spec_for(result, proto.graph.input[0].name, **prep)
    for key, value in spec.to_metadata_props().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    out_path = Path(out_path)
    onnx.save(proto, str(out_path))
    x = np.random.default_rng(0).random((1, h, w, 3), dtype=np.float32)
    sess = make_session(out_path, threads=1)
    (got,) = sess.run(None, {spec.input_name: x})
    want = np.asarray(result.model(x, training=False))
    diff = float(np.max(np.abs(got - want)))
    if not diff <= atol:
        raise ConversionCheckError(f"{out_path}: ONNX Runtime differs from Keras by "
                                   f"{diff:.3g} (> {atol:g})")
    return diff
