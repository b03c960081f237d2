"""An ``.onnx`` given to ``lanecam export``, checked before any step reads it.

Two hostile or damaged inputs otherwise end in tracebacks: bytes that are not an ONNX protobuf
(``DecodeError``), and external-data tensors whose ``location`` is absolute or climbs out of the
model's folder (``../../etc/passwd``), which ``onnx.load`` would read from anywhere.
"""

from pathlib import Path

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require

__all__ = ["read_onnx_header", "check_external_data"]


def read_onnx_header(path):
    """The ``ModelProto`` of ``path`` without its external data; ``InputError`` naming the file
    when it does not parse as ONNX."""
    onnx = require("onnx", "train", "reading ONNX models")
    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError, RuntimeWarning-as-error, OSError ...
        raise InputError(f"{path}: not an ONNX model ({type(exc).__name__}: "
                         f"{str(exc)[:80] or 'cannot parse'})") from None


def check_external_data(path, model) -> None:
    """Refuse external-data locations that are absolute or resolve outside the model's folder
    (``InputError`` naming the file, the tensor and the location)."""
    helper = require("onnx.external_data_helper", "train", "reading ONNX models")
    folder = Path(path).resolve().parent
    for tensor in helper._get_all_tensors(model):
        if not helper.uses_external_data(tensor):
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = (folder / location).resolve()
        if Path(location).is_absolute() or (target != folder and folder not in target.parents):
            raise InputError(f"{path}: tensor {tensor.name!r} points its external data at "
                             f"{location!r}, outside the model's folder; refused")
