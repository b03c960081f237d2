"""Convert a Keras model to ONNX with tf2onnx. TensorFlow is imported here, lazily.

Loading lives in the runtime's one Keras loader, ``lanecam.engines.keras_loader`` (re-exported
here for the export steps that load and convert).
"""

import logging

from lanecam.engines.keras_loader import (LoadedModel, flatten_outputs, import_tensorflow,
                                          load_model)
from lanecam.pipeline.lazy import require

__all__ = ["LoadedModel", "load_model", "convert", "flatten_outputs", "import_tensorflow"]


def convert(loaded: LoadedModel, input_shape: tuple, input_name: str, opset: int, nchw: bool):
    """tf2onnx conversion with a fixed input signature; returns an ``onnx.ModelProto``."""
    tf = import_tensorflow("converting to ONNX")
    tf2onnx = require("tf2onnx", "train", "converting to ONNX")
    tf2onnx.logging.set_level(logging.ERROR)
    sig = (tf.TensorSpec(input_shape, tf.as_dtype(loaded.input_dtype), name=input_name),)
    nchw_arg = [input_name] if nchw else None
    if loaded.kind == "saved_model":
        fn = tf.function(lambda x: loaded.obj(x), input_signature=sig)
        proto, _ = tf2onnx.convert.from_function(fn, input_signature=sig, opset=opset,
                                                 inputs_as_nchw=nchw_arg)
    else:
        proto, _ = tf2onnx.convert.from_keras(loaded.obj, input_signature=sig, opset=opset,
                                              inputs_as_nchw=nchw_arg)
    return proto
