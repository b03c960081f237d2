"""Tiny classifiers for the conversion tests, built by code (no binaries): Sequential and
functional, several input sizes and channel counts, with and without Dropout."""

import keras

from experiments.convolutionalization.seed_models import seed_dense

L = keras.layers


def seed_stack(shape=(24, 24, 3)):
    """The seed's exact layer stack (32/32 filters, Dense 128, Dropout 0.25/0.5, softmax)."""
    return seed_dense(shape, seed=1)


def seed_stack_no_dropout(shape=(20, 28, 3)):
    return seed_dense(shape, dropout=False, seed=2)


def seed_stack_softmax_in_dense(shape=(18, 18, 1)):
    return seed_dense(shape, softmax_layer=False, seed=3)


def functional_residual(shape=(20, 24, 1)):
    """A branch and a merge in the trunk, two poolings (stride 4), logits out."""
    inp = keras.Input(shape)
    a = L.Conv2D(6, 3, activation="relu")(inp)
    b = L.Conv2D(6, 1)(a)
    x = L.Add()([a, b])
    x = L.MaxPooling2D(2)(x)
    x = L.Conv2D(8, 3, activation="relu")(x)
    x = L.MaxPooling2D(2)(x)
    x = L.Flatten()(x)
    x = L.Dense(16, activation="relu")(x)
    x = L.Dense(3)(x)
    return keras.Model(inp, x, name="residual")


def functional_bn_head(shape=(16, 32, 4)):
    """4 channels; strided convolution; Dense -> BatchNorm -> ReLU -> Dropout -> Dense ->
    Softmax layer; the BatchNorm statistics are made non-trivial."""
    inp = keras.Input(shape)
    x = L.Conv2D(8, 3, strides=2, activation="relu")(inp)
    x = L.Conv2D(8, 3, activation="elu")(x)
    x = L.AveragePooling2D(2)(x)
    x = L.Flatten()(x)
    x = L.Dense(12)(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    x = L.Dropout(0.3)(x)
    x = L.Dense(4)(x)
    x = L.Softmax()(x)
    model = keras.Model(inp, x, name="bn_head")
    bn = [ly for ly in model.layers if isinstance(ly, L.BatchNormalization)][0]
    gamma, beta, mean, var = bn.get_weights()
    bn.set_weights([gamma * 1.5, beta + 0.2, mean + 0.3, var * 2.0])
    return model


def three_dense_no_pool(shape=(12, 12, 2)):
    """No pooling (stride 1), three Dense layers, a trunk Dropout and head Activation."""
    return keras.Sequential([
        keras.Input(shape), L.Conv2D(4, 3, activation="relu"), L.Dropout(0.1),
        L.Flatten(), L.Dense(10, activation="tanh"), L.Dense(6), L.Activation("relu"),
        L.Dense(2, activation="sigmoid")], name="three_dense")


def same_padded_trunk(shape=(16, 16, 3)):
    """``same`` padding in the trunk (like the seed's convolutional model's trunk)."""
    return keras.Sequential([
        keras.Input(shape), L.Conv2D(8, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2), L.Flatten(), L.Dense(8, activation="relu"), L.Dense(2)],
        name="same_padded")


def seed_stack_functional(shape=(30, 40, 3), dropout: bool = True):
    """The seed's exact layer stack written with the functional API (non-square input)."""
    inp = keras.Input(shape)
    x = L.Conv2D(32, (3, 3), padding="valid", activation="relu")(inp)
    x = L.Conv2D(32, (3, 3), activation="relu")(x)
    x = L.MaxPooling2D(pool_size=(2, 2))(x)
    x = L.Dropout(0.25)(x) if dropout else x
    x = L.Flatten()(x)
    x = L.Dense(128, activation="relu")(x)
    x = L.Dropout(0.5)(x) if dropout else x
    x = L.Dense(2)(x)
    x = L.Activation("softmax")(x)
    return keras.Model(inp, x, name="seed_functional")


def seed_stack_functional_no_dropout(shape=(26, 22, 2)):
    """The same without Dropout, two input channels."""
    return seed_stack_functional(shape, dropout=False)
