"""The seed question's models in today's Keras, plus the answer's global-pooling one (the
question and the answer: ``docs/convolutionalization.md``).

- ``seed_dense``: Conv2D(32, 3x3, valid, relu) -> Conv2D(32, 3x3, relu) -> MaxPool 2x2 ->
  Dropout(0.25) -> Flatten -> Dense(128, relu) -> Dropout(0.5) -> Dense(2) -> softmax
  (the Keras 1 ``mnist_cnn.py`` example the seed started from);
- ``seed_conv``: the seed's "convolutionalized" version: the two convolutions with ``same``
  padding, MaxPool, Dropout(0.25), Conv2D(256, kernel = the whole pooled map, relu),
  Dropout(0.5), Conv2D(2, 1x1), Flatten, softmax;
- ``gap_model``: the answer: the same trunk, 1x1 convolutions, GlobalAveragePooling, softmax.

Keras is imported inside the functions.
"""

from typing import Optional, Tuple

from lanecam.pipeline.lazy import require

__all__ = ["seed_dense", "seed_conv", "gap_model", "pooled_size"]


def _keras():
    return require("keras", "train", "building the seed's Keras models")


def pooled_size(input_hw: Tuple[int, int], padding: str) -> Tuple[int, int]:
    """The feature map after the two 3x3 convolutions and the 2x2 max pooling."""
    h, w = input_hw
    if padding == "valid":
        h, w = h - 4, w - 4
    return h // 2, w // 2


def seed_dense(input_shape=(32, 32, 3), dropout: bool = True, units: int = 128,
               classes: int = 2, softmax_layer: bool = True, seed: Optional[int] = None):
    """The seed's Dense classifier (Sequential). ``softmax_layer`` puts the softmax in an
    Activation layer (as the seed did) instead of the last Dense's activation."""
    keras = _keras()
    L = keras.layers
    init = (lambda k: keras.initializers.GlorotUniform(seed=None if seed is None else seed + k))
    layers = [keras.Input(tuple(input_shape)),
              L.Conv2D(32, 3, padding="valid", activation="relu", kernel_initializer=init(0)),
              L.Conv2D(32, 3, activation="relu", kernel_initializer=init(1)),
              L.MaxPooling2D(2)]
    layers += [L.Dropout(0.25, seed=seed)] if dropout else []
    layers += [L.Flatten(), L.Dense(units, activation="relu", kernel_initializer=init(2))]
    layers += [L.Dropout(0.5, seed=seed)] if dropout else []
    if softmax_layer:
        layers += [L.Dense(classes, kernel_initializer=init(3)), L.Activation("softmax")]
    else:
        layers += [L.Dense(classes, activation="softmax", kernel_initializer=init(3))]
    return keras.Sequential(layers, name="seed_dense")


def seed_conv(input_shape=(32, 32, 3), filters: int = 256, classes: int = 2,
              seed: Optional[int] = None, big_kernel_initializer=None,
              kernel_hw: Optional[Tuple[int, int]] = None, padding: str = "same"):
    """The seed's convolutionalized classifier, trained from scratch in the seed.

    Args:
        big_kernel_initializer: initializer of the whole-map convolution (default Keras's
            GlorotUniform, whose fan-out counts every kernel position: see the docs).
        kernel_hw: that convolution's kernel (default: the whole pooled map).
        padding: of the two 3x3 convolutions ("same", as in the seed).
    """
    keras = _keras()
    L = keras.layers
    init = (lambda k: keras.initializers.GlorotUniform(seed=None if seed is None else seed + k))
    kh, kw = kernel_hw or pooled_size(input_shape[:2], padding)
    big_init = big_kernel_initializer or init(2)
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        L.Conv2D(32, 3, padding=padding, activation="relu", kernel_initializer=init(0)),
        L.Conv2D(32, 3, padding=padding, activation="relu", kernel_initializer=init(1)),
        L.MaxPooling2D(2),
        L.Dropout(0.25, seed=seed),
        L.Conv2D(filters, (kh, kw), activation="relu", kernel_initializer=big_init,
                 name="whole_map_conv"),
        L.Dropout(0.5, seed=seed),
        L.Conv2D(classes, 1, kernel_initializer=init(3)),
        L.Flatten(),
        L.Activation("softmax"),
    ], name="seed_conv")


def gap_model(input_shape=(32, 32, 3), filters: int = 128, classes: int = 2,
              seed: Optional[int] = None):
    """The answer's model: the seed's trunk, 1x1 convolutions, global average pooling."""
    keras = _keras()
    L = keras.layers
    init = (lambda k: keras.initializers.GlorotUniform(seed=None if seed is None else seed + k))
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        L.Conv2D(32, 3, padding="valid", activation="relu", kernel_initializer=init(0)),
        L.Conv2D(32, 3, activation="relu", kernel_initializer=init(1)),
        L.MaxPooling2D(2),
        L.Dropout(0.25, seed=seed),
        L.Conv2D(filters, 1, activation="relu", kernel_initializer=init(2)),
        L.Dropout(0.5, seed=seed),
        L.Conv2D(classes, 1, kernel_initializer=init(3)),
        L.GlobalAveragePooling2D(),
        L.Activation("softmax"),
    ], name="gap_model")
