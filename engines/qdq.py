"""Is an ONNX model explicitly quantized (Q/DQ)? One answer for the engines and the exporter.

A Q/DQ model carries QuantizeLinear/DequantizeLinear node pairs: TensorRT builds it as INT8,
ONNX Runtime must run it unfused to compute what TensorRT computes (``ort_session``). The
check reads the protobuf bytes, so it needs neither the ``onnx`` package (a Jetson runtime may
not have it) nor a parse of the whole graph.
"""

import os
from pathlib import Path
from typing import Union

__all__ = ["is_qdq", "QDQ_OPS"]

QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")


def _op_type_field(op: str) -> bytes:
    # NodeProto.op_type is field 4, a length-delimited string: tag byte (4 << 3) | 2 = 0x22,
    # then its length (one byte below 128). Matching tag + length + name finds the op as a
    # node's type only: not a node or tensor *named* "QuantizeLinear" (field 1 or 3), and not
    # DynamicQuantizeLinear (dynamic quantization, another op with another length).
    return bytes([0x22, len(op)]) + op.encode()


_MARKERS = tuple(_op_type_field(op) for op in QDQ_OPS)


def is_qdq(model: Union[str, os.PathLike, bytes]) -> bool:
    """True when the ONNX model (a path, its bytes, or an ``onnx.ModelProto``) has
    QuantizeLinear or DequantizeLinear nodes."""
    if hasattr(model, "SerializeToString"):
        data = model.SerializeToString()
    elif isinstance(model, (bytes, bytearray)):
        data = bytes(model)
    else:
        data = Path(model).read_bytes()
    return any(marker in data for marker in _MARKERS)
