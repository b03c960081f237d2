"""Keras -> ONNX -> TensorRT export: ONNX conversion, precision variants, plan building.

Every heavy library (tensorflow, tf2onnx, onnx, onnxruntime, tensorrt, and OpenCV through the
calibration frames) is imported on first use: the names below are loaded when first accessed
(PEP 562), so importing this package (as ``lanecam --help`` does for ``export``) is cheap and
works without OpenCV.
"""

import importlib

# public name -> module defining it
_EXPORTS = {
    "ExportCheckError": "lanecam.tools.export.onnx_export",
    "build_plan": "lanecam.tools.export.trt_plan",
    "compare_variants": "lanecam.tools.export.variants",
    "convert_to_fp16": "lanecam.tools.export.fp16",
    "export_keras": "lanecam.tools.export.onnx_export",
    "make_tensorrt_compatible": "lanecam.tools.export.trt_compat",
    "quantize_qdq": "lanecam.tools.export.int8",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lanecam.tools.export' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
