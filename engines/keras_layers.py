"""The custom Keras layers lanecam's own models are built with, registered with Keras on demand.

A saved LaneFCN (``.keras``) names its ``AddCoords`` layer as ``lanecam>AddCoords``: loading it
needs the class registered under that name, so the runtime's Keras loader (``keras_loader``)
registers it before every load and the network definition (``lanecam.tools.fcn``) builds with
the same class. Keras is imported only when ``custom_objects()`` is first called: importing this
module costs nothing and the runtime stays free of TensorFlow until a Keras model is loaded.
"""

from typing import Dict

from lanecam.pipeline.lazy import require

__all__ = ["custom_objects"]

_REGISTERED: Dict[str, type] = {}


def _define(keras) -> Dict[str, type]:
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="lanecam")
    class AddCoords(keras.layers.Layer):
        """Concatenate two constant channels: x and y in [-1, 1] over the feature map."""

        def call(self, x):
            shape = ops.shape(x)
            h, w = x.shape[1], x.shape[2]
            xs = ops.linspace(-1.0, 1.0, w)
            ys = ops.linspace(-1.0, 1.0, h)
            gx = ops.broadcast_to(ops.reshape(xs, (1, 1, w, 1)), (shape[0], h, w, 1))
            gy = ops.broadcast_to(ops.reshape(ys, (1, h, 1, 1)), (shape[0], h, w, 1))
            return ops.concatenate([x, ops.cast(gx, x.dtype), ops.cast(gy, x.dtype)], axis=-1)

        def compute_output_shape(self, input_shape):
            return input_shape[:-1] + (input_shape[-1] + 2,)

    # keep the module path stable in saved configs, whatever function defined the class
    AddCoords.__module__ = __name__
    AddCoords.__qualname__ = "AddCoords"
    return {"AddCoords": AddCoords}


def custom_objects() -> Dict[str, type]:
    """``{name: layer class}`` of lanecam's custom layers, defined and registered with Keras
    (as ``lanecam>Name``) on the first call; imports Keras (the ``train`` extra)."""
    if not _REGISTERED:
        _REGISTERED.update(_define(require("keras", "train", "lanecam's Keras layers")))
    return dict(_REGISTERED)
