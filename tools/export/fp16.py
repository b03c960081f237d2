"""FP32 ONNX -> FP16-typed ONNX with FP32 inputs and outputs (onnxconverter-common's converter).

TensorRT 11 removed ``BuilderFlag.FP16``: precision comes from the ONNX types themselves, so the
FP16 variant is a graph whose weights and activations are float16, with a Cast after each input
and before each output so callers keep feeding and reading float32 (``keep_io_types``).

The converter's ops that must not or need not run in float16 (its ``DEFAULT_OP_BLOCK_LIST``:
Resize, Upsample, TopK, Range, Min, Max, ...) stay float32 between two Casts; ONNX requires
Resize scales in float32 anyway. Float constants are saturated to the float16 range instead of
the converter's default +-1e4, so large constants (masks, -1e9 paddings) keep as much of their
value as float16 can hold and never overflow to inf.
"""

import numpy as np

from lanecam.pipeline.lazy import require

__all__ = ["convert_to_fp16"]

_FP16_MAX = float(np.finfo(np.float16).max)        # 65504
_FP16_MIN_POSITIVE = 2.0 ** -24                     # the smallest float16 subnormal


def convert_to_fp16(model):
    """Return an FP16-typed copy of the FP32 ``onnx.ModelProto`` ``model``; I/O stays FP32.

    Float initializers and Constant tensors become float16 (saturated to the float16 range),
    casts to float become casts to float16, metadata (the embedded ModelSpec) is kept. The result
    passes the ONNX checker with strict shape inference. ``model`` is not modified.
    """
    onnx = require("onnx", "train", "the FP16 variant")
    float16 = require("onnxconverter_common.float16", "train", "the FP16 variant")

    model = onnx.ModelProto.FromString(model.SerializeToString())
    half = float16.convert_float_to_float16(model, keep_io_types=True,
                                            max_finite_val=_FP16_MAX,
                                            min_positive_val=_FP16_MIN_POSITIVE)
    half = onnx.shape_inference.infer_shapes(half, check_type=True, strict_mode=True)
    onnx.checker.check_model(half, full_check=True)
    return half
