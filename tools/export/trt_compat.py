"""Find ONNX nodes TensorRT rejects; rewrite the ones that have an exact equivalent, refuse the rest.

The known trap: Keras ``UpSampling2D`` (tf.keras / Keras 2, and TF ``resize_nearest_neighbor``
with half-pixel centres) converts through tf2onnx into a ``Resize`` with
``coordinate_transformation_mode=tf_half_pixel_for_nn``, which TensorRT's ONNX parser rejects
(tensorflow-onnx #2248, onnx-tensorrt #913). For an integer up-scale factor ``s`` it equals
``asymmetric`` + ``floor`` exactly: output index ``x = k*s + r`` (0 <= r < s) maps to
``floor((x + 0.5) / s) = k`` in the first and ``floor(x / s) = k`` in the second.
"""

from typing import List, Optional

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.tools.export.graph import constant_value

__all__ = ["make_tensorrt_compatible", "UNSUPPORTED_OPS", "STANDARD_DOMAINS"]

# Ops TensorRT's ONNX parser has no importer for (onnx-tensorrt docs/operators.md, 8.6-10.x):
# sequences, optionals, strings, integer-only quantized ops and random sampling.
UNSUPPORTED_OPS = frozenset({
    "Bernoulli", "BitShift", "ConcatFromSequence", "ConvInteger", "DynamicQuantizeLinear",
    "ImageDecoder", "MatMulInteger", "Multinomial", "Optional", "OptionalGetElement",
    "OptionalHasElement", "QLinearConv", "QLinearMatMul", "RegexFullMatch", "SequenceAt",
    "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert", "SequenceLength",
    "SplitToSequence", "StringConcat", "StringNormalizer", "StringSplit", "TfIdfVectorizer",
    "Unique",
})
STANDARD_DOMAINS = ("", "ai.onnx")
# coordinate transformation modes the parser accepts for Resize
_TRT_COORD_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")


def _attr(node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            if a.type == a.STRING:
                return a.s.decode()
            if a.type == a.INT:
                return a.i
            return a
    return default


def _set_str_attr(node, name: str, value: str) -> None:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            a.s = value.encode()
            return
    node.attribute.append(helper.make_attribute(name, value))


def _shape_of(model, name: str) -> Optional[List[int]]:
    for v in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        if v.name == name:
            dims = v.type.tensor_type.shape.dim
            return [d.dim_value if d.HasField("dim_value") else None for d in dims]
    return None


def _resize_factors(model, node) -> Optional[np.ndarray]:
    """Per-axis scale factors of a Resize node (from ``scales`` or ``sizes``), None if unknown."""
    scales = constant_value(model, node.input[2]) if len(node.input) > 2 else None
    if scales is not None and scales.size:
        return scales.astype(np.float64)
    sizes = constant_value(model, node.input[3]) if len(node.input) > 3 else None
    in_shape = _shape_of(model, node.input[0])
    if sizes is None or in_shape is None or len(in_shape) != sizes.size:
        return None
    # the batch dim may be symbolic: it is never resized by an image up-sampling
    return np.array([s / d if d else 1.0 for s, d in zip(sizes.tolist(), in_shape)])


def _fix_resize(model, node) -> Optional[str]:
    """Rewrite one Resize when needed; returns a description of the fix, None if fine as is."""
    coord = _attr(node, "coordinate_transformation_mode", "half_pixel")
    mode = _attr(node, "mode", "nearest")
    where = f"Resize node '{node.name}'"
    if _attr(node, "antialias", 0):
        raise InputError(f"{where}: antialias=1 is not supported by TensorRT; export without it")
    if coord in _TRT_COORD_MODES:
        return None
    if coord == "tf_half_pixel_for_nn" and mode == "nearest":
        factors = _resize_factors(model, node)
        if factors is None:
            raise InputError(f"{where}: tf_half_pixel_for_nn with scales that are not constant; "
                             "TensorRT rejects it and it cannot be rewritten exactly")
        if not np.all((factors >= 1) & (np.abs(factors - np.round(factors)) < 1e-6)):
            raise InputError(f"{where}: tf_half_pixel_for_nn with non-integer scales "
                             f"{factors.tolist()}; TensorRT rejects it and no exact rewrite exists "
                             "(use integer UpSampling2D factors)")
        _set_str_attr(node, "coordinate_transformation_mode", "asymmetric")
        _set_str_attr(node, "nearest_mode", "floor")
        return (f"{where}: tf_half_pixel_for_nn -> asymmetric/floor (exact for integer scales "
                f"{[int(round(f)) for f in factors]})")
    raise InputError(f"{where}: coordinate_transformation_mode={coord} (mode={mode}) is not "
                     f"supported by TensorRT (accepted: {', '.join(_TRT_COORD_MODES)})")


def make_tensorrt_compatible(model) -> List[str]:
    """Check every node of ``model`` against TensorRT's ONNX parser; rewrite in place what can
    be rewritten exactly. Returns one line per rewrite; raises InputError naming the first node
    that TensorRT would reject and that has no exact rewrite.
    """
    fixes = []
    for node in model.graph.node:
        where = f"node '{node.name}' ({node.op_type})"
        if node.domain not in STANDARD_DOMAINS:
            raise InputError(f"{where}: custom domain '{node.domain}' is not understood by "
                             "TensorRT's ONNX parser")
        if node.op_type in UNSUPPORTED_OPS:
            raise InputError(f"{where}: {node.op_type} is not supported by TensorRT's ONNX parser")
        if node.op_type == "Resize":
            fix = _fix_resize(model, node)
            if fix:
                fixes.append(fix)
    return fixes
