"""Models that cannot be convolutionalized are refused with the layer's name and why."""

import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from lanecam.pipeline.errors import InputError  # noqa: E402
from lanecam.tools.convolutionalize import analyse, convolutionalize  # noqa: E402

pytestmark = pytest.mark.tf
L = keras.layers


def _gap():
    return keras.Sequential([keras.Input((16, 16, 3)), L.Conv2D(4, 3),
                             L.GlobalAveragePooling2D(), L.Dense(2)])


def _reshape_in_head():
    return keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3), L.Flatten(),
                             L.Dense(4), L.Reshape((2, 2), name="odd_reshape")])


def _bn_before_dense():
    return keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3), L.Flatten(),
                             L.BatchNormalization(name="flat_bn"), L.Dense(2)])


def _channels_first():
    return keras.Sequential([keras.Input((3, 8, 8)),
                             L.Conv2D(4, 3, data_format="channels_first", name="cf_conv"),
                             L.Flatten(), L.Dense(2)])


def _two_outputs():
    inp = keras.Input((8, 8, 3))
    x = L.Flatten()(L.Conv2D(4, 3)(inp))
    return keras.Model(inp, [L.Dense(2)(x), L.Dense(3)(x)])


def _branching_head():
    inp = keras.Input((8, 8, 3))
    x = L.Flatten(name="flat")(L.Conv2D(4, 3)(inp))
    return keras.Model(inp, L.Add()([L.Dense(2)(x), L.Dense(2)(x)]))


def _no_dense_after_flatten():
    return keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3), L.Flatten(name="flat_end"),
                             L.Activation("softmax")])


def _two_flattens():
    inp = keras.Input((8, 8, 3))
    a = L.Flatten(name="flat_a")(L.Conv2D(4, 3)(inp))
    b = L.Flatten(name="flat_b")(L.Conv2D(4, 3)(inp))
    return keras.Model(inp, L.Dense(2)(L.Concatenate()([a, b])))


def _softmax_wrong_axis():
    inp = keras.Input((8, 8, 3))
    x = L.Dense(4)(L.Flatten()(L.Conv2D(4, 3)(inp)))
    x = L.Reshape((2, 2))(x)
    return keras.Model(inp, L.Softmax(axis=1, name="sm")(x))


# builder, words the one-line message must contain
REFUSALS = [
    ("global pooling head", _gap, ["no Flatten", "global_average_pooling2d"]),
    ("Reshape after Dense", _reshape_in_head, ["'odd_reshape' (Reshape)", "cannot follow Flatten"]),
    ("BatchNorm on flattened features", _bn_before_dense, ["'flat_bn'", "per channel"]),
    ("channels_first trunk", _channels_first, ["'cf_conv'", "channels_first"]),
    ("two outputs", _two_outputs, ["expected one output", "got 2"]),
    ("head branches", _branching_head, ["'flat' (Flatten)", "feeds 2 layers"]),
    ("no Dense after Flatten", _no_dense_after_flatten, ["'flat_end'", "not followed by a Dense"]),
    ("two Flattens", _two_flattens, ["second Flatten"]),
    ("Reshape before softmax", _softmax_wrong_axis, ["(Reshape)", "cannot follow Flatten"]),
]


@pytest.mark.parametrize("name,builder,words", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_with_layer_and_reason(name, builder, words):
    with pytest.raises(InputError) as info:
        analyse(builder())
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_smaller_input_size_refused():
    model = keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3), L.Flatten(), L.Dense(2)])
    with pytest.raises(InputError, match="at least the classifier's input size 8x8"):
        convolutionalize(model, input_size=(6, 12))
