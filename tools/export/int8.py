"""FP32 ONNX -> Q/DQ INT8 ONNX by ONNX Runtime static quantization over calibration frames.

Explicit quantization (QuantizeLinear/DequantizeLinear pairs, symmetric int8 activations and
weights, zero points 0) is the INT8 path that builds on every TensorRT version: the implicit
calibrators are deprecated in 10.1 and gone in 11 (TENSORRT.md). Runs on a CPU.
"""

import tempfile
from pathlib import Path

from calibration.int8 import CalibrationSet
from pipeline.errors import InputError
from pipeline.lazy import require

__all__ = ["quantize_qdq", "CALIB_METHODS", "QUANTIZED_OPS"]

CALIB_METHODS = ("minmax", "entropy", "percentile")
# ops TensorRT runs in INT8 when surrounded by Q/DQ; BatchNormalization stays float (it is
# folded into the preceding conv by TensorRT or kept in float when it comes first)
QUANTIZED_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm", "MaxPool", "AveragePool",
                 "GlobalAveragePool", "Resize", "Concat", "Add", "Mul")


def _reader(calib: CalibrationSet, input_name: str):
    quant = require("onnxruntime.quantization", "test", "INT8 quantization")

    class _Reader(quant.CalibrationDataReader):
        def __init__(self):
            self._feeds = iter(calib.feeds(input_name))

        def get_next(self):
            return next(self._feeds, None)

    return _Reader()


def quantize_qdq(fp32_path, out_path, calib: CalibrationSet, method: str = "minmax",
                 per_channel: bool = True) -> Path:
    """Write a Q/DQ INT8 copy of ``fp32_path`` to ``out_path``; returns ``out_path``.

    Args:
        calib: preprocessed calibration inputs (in the model's layout).
        method: activation range estimate, one of CALIB_METHODS.
        per_channel: per-output-channel weight scales (what TensorRT uses for Conv weights).
    """
    if method not in CALIB_METHODS:
        raise InputError(f"--calib-method: expected one of {', '.join(CALIB_METHODS)}, "
                         f"got {method!r}")
    onnx = require("onnx", "train", "INT8 quantization")
    quant = require("onnxruntime.quantization", "test", "INT8 quantization")
    input_name = onnx.load(str(fp32_path), load_external_data=False).graph.input[0].name
    methods = {"minmax": quant.CalibrationMethod.MinMax,
               "entropy": quant.CalibrationMethod.Entropy,
               "percentile": quant.CalibrationMethod.Percentile}
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory() as tmp:
        # shape inference + graph cleanup first, as ONNX Runtime recommends before quantizing
        prepped = Path(tmp) / "prepped.onnx"
        quant.quant_pre_process(str(fp32_path), str(prepped), skip_symbolic_shape=True)
        quant.quantize_static(
            str(prepped), str(out_path), _reader(calib, input_name),
            quant_format=quant.QuantFormat.QDQ,
            activation_type=quant.QuantType.QInt8, weight_type=quant.QuantType.QInt8,
            per_channel=per_channel, calibrate_method=methods[method],
            op_types_to_quantize=list(QUANTIZED_OPS),
            # float weights behind Q->DQ pairs and float biases: the form every TensorRT
            # version's ONNX parser accepts (int8 weights with a lone DQ, int32 biases are not)
            extra_options={"ActivationSymmetric": True, "WeightSymmetric": True,
                           "AddQDQPairToWeight": True, "QuantizeBias": False},
        )
    # quantize_static drops nothing we rely on except possibly metadata: copy it back
    src = onnx.load(str(fp32_path))
    dst = onnx.load(str(out_path))
    have = {p.key for p in dst.metadata_props}
    for p in src.metadata_props:
        if p.key not in have:
            dst.metadata_props.add(key=p.key, value=p.value)
    onnx.save(dst, str(out_path))
    return out_path
