"""Keras -> ONNX -> TensorRT export: ONNX conversion, precision variants, plan building.

Every heavy library (tensorflow, tf2onnx, onnx, onnxruntime, tensorrt) is imported inside the
functions that need it, so importing this package is cheap.
"""

from lanecam.tools.export.fp16 import convert_to_fp16
from lanecam.tools.export.int8 import quantize_qdq
from lanecam.tools.export.onnx_export import ExportCheckError, export_keras
from lanecam.tools.export.trt_compat import make_tensorrt_compatible
from lanecam.tools.export.trt_plan import build_plan
from lanecam.tools.export.variants import compare_variants

__all__ = ["ExportCheckError", "build_plan", "compare_variants", "convert_to_fp16",
           "export_keras", "make_tensorrt_compatible", "quantize_qdq"]
