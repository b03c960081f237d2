"""FP32 ONNX -> Q/DQ INT8 ONNX by ONNX Runtime static quantization over calibration frames.

Explicit quantization (QuantizeLinear/DequantizeLinear pairs, symmetric int8 activations and
weights, zero points 0) is the INT8 path that builds on every TensorRT version: the implicit
calibrators are deprecated in TensorRT 10.1 and removed in 11. Runs on a CPU.
"""

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require

if TYPE_CHECKING:  # the calibration package needs OpenCV, which --help must not
    from lanecam.calibration.int8 import CalibrationSet

__all__ = ["quantize_qdq", "CALIB_METHODS", "QUANTIZED_OPS"]

CALIB_METHODS = ("minmax", "entropy", "percentile")
# ops TensorRT runs in INT8 when surrounded by Q/DQ; BatchNormalization stays float (it is
# folded into the preceding conv by TensorRT or kept in float when it comes first)
QUANTIZED_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm", "MaxPool", "AveragePool",
                 "GlobalAveragePool", "Resize", "Concat", "Add", "Mul")


def _reader(calib: "CalibrationSet", input_name: str):
    quant = require("onnxruntime.quantization", "test", "INT8 quantization")

    class _Reader(quant.CalibrationDataReader):
        def __init__(self):
            self._feeds = iter(calib.feeds(input_name))

        def get_next(self):
            return next(self._feeds, None)

    return _Reader()


# TensorRT's entropy calibration settings: a 2048-bin histogram, the threshold whose 128-level
# version loses the least information (KL divergence). On the MLND model (14 real frames) other
# settings did worse: 2048/511 95.5% mask IoU, 2048/255 87.5%, 8192/255 4.7% (vs 97.4% here)
ENTROPY_BINS = 2048
ENTROPY_LEVELS = 128


def _entropy_ranges(quant, model_path: Path, calib: "CalibrationSet", input_name: str,
                    tmp: Path) -> dict:
    """Per-tensor ``{"rmin", "rmax"}`` overrides from ONNX Runtime's entropy calibrator.

    ``quantize_static`` cannot pass the histogram size to it and its default (128 bins for
    128 quantized bins) leaves a single candidate threshold, the full range: "entropy" would
    silently be min/max. So the calibrator is run here with a real histogram and its ranges
    are handed to ``quantize_static`` as ``TensorQuantOverrides``.
    """
    calibrator = quant.create_calibrator(
        str(model_path), list(QUANTIZED_OPS), augmented_model_path=str(tmp / "augmented.onnx"),
        calibrate_method=quant.CalibrationMethod.Entropy,
        extra_options={"symmetric": True, "num_bins": ENTROPY_BINS,
                       "num_quantized_bins": ENTROPY_LEVELS})
    calibrator.collect_data(_reader(calib, input_name))
    ranges = calibrator.compute_data()
    overrides = {}
    for name in ranges:
        value = ranges[name]
        lo, hi = getattr(value, "range_value", value)  # TensorData (>= 1.17) or a tuple
        overrides[name] = [{"rmin": np.float32(lo), "rmax": np.float32(hi)}]
    return overrides


def quantize_qdq(fp32_path, out_path, calib: "CalibrationSet", method: str = "minmax",
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
        # float weights behind Q->DQ pairs and float biases: the form every TensorRT
        # version's ONNX parser accepts (int8 weights with a lone DQ, int32 biases are not)
        extra = {"ActivationSymmetric": True, "WeightSymmetric": True,
                 "AddQDQPairToWeight": True, "QuantizeBias": False}
        if method == "entropy":
            extra["TensorQuantOverrides"] = _entropy_ranges(quant, prepped, calib, input_name,
                                                            Path(tmp))
        quant.quantize_static(
            str(prepped), str(out_path), _reader(calib, input_name),
            quant_format=quant.QuantFormat.QDQ,
            activation_type=quant.QuantType.QInt8, weight_type=quant.QuantType.QInt8,
            per_channel=per_channel,
            # entropy ranges come in as overrides; the min/max pass only fills the rest
            calibrate_method=methods["minmax" if method == "entropy" else method],
            op_types_to_quantize=list(QUANTIZED_OPS), extra_options=extra,
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
