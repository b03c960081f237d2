"""Keras -> ONNX -> TensorRT export: ONNX conversion, precision variants, plan building.

Every heavy library (tensorflow, tf2onnx, onnx, onnxruntime, tensorrt) is imported inside the
functions that need it, so importing this package is cheap.
"""

from tools.export.onnx_export import ExportCheckError, export_keras

__all__ = ["ExportCheckError", "export_keras"]
