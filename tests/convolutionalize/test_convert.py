"""Conversion equivalence, table-driven: each classifier on its own size (<= 1e-5) and, on a
larger input, every checked map cell against the classifier on its window (<= 1e-5)."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from tests.convolutionalize import classifiers as C  # noqa: E402
from lanecam.tools.convolutionalize import convolutionalize, dense_to_conv_kernel  # noqa: E402
from lanecam.tools.convolutionalize.verify import random_images  # noqa: E402

pytestmark = pytest.mark.tf
ATOL = 1e-5

# builder, larger input size, expected stride, expected map size (rows, cols), classes
CASES = [
    ("seed stack 24x24x3", C.seed_stack, (40, 64), 2, (9, 21), 2),
    ("seed stack no Dropout 20x28x3", C.seed_stack_no_dropout, (36, 28), 2, (9, 1), 2),
    ("seed stack softmax in Dense 18x18x1", C.seed_stack_softmax_in_dense, (18, 30), 2, (1, 7), 2),
    ("functional residual 20x24x1", C.functional_residual, (36, 40), 4, (5, 5), 3),
    ("functional BN head 16x32x4", C.functional_bn_head, (32, 64), 4, (5, 9), 4),
    ("three Dense, no pooling 12x12x2", C.three_dense_no_pool, (15, 20), 1, (4, 9), 2),
    ("seed stack functional 30x40x3", C.seed_stack_functional, (46, 72), 2, (9, 17), 2),
    ("seed stack functional no Dropout 26x22x2", C.seed_stack_functional_no_dropout, (26, 50),
     2, (1, 15), 2),
]


@pytest.mark.parametrize("name,builder,size,stride,map_hw,classes", CASES,
                         ids=[c[0] for c in CASES])
def test_equivalent_and_sliding(name, builder, size, stride, map_hw, classes):
    keras.utils.set_random_seed(0)
    model = builder()
    result = convolutionalize(model, input_size=size, atol=ATOL)
    assert result.same_size_diff <= ATOL
    assert result.window_diff is not None and result.window_diff <= ATOL
    assert result.stride == (stride, stride)
    assert result.output_shape == (*map_hw, classes)
    assert result.window == tuple(model.inputs[0].shape[1:3])
    # no Dense or Flatten is left; Dropout stays where the classifier had it
    kinds = [type(ly).__name__ for ly in result.model.layers]
    assert "Dense" not in kinds and "Flatten" not in kinds
    assert kinds.count("Dropout") == [type(ly).__name__ for ly in model.layers].count("Dropout")


def test_every_cell_of_the_seed_map_is_its_window():
    """Not just the corners: all cells of a small map, against explicit crops."""
    keras.utils.set_random_seed(0)
    model = C.seed_stack((24, 24, 3))
    conv = convolutionalize(model, input_size=(30, 34)).model
    image = random_images(1, (30, 34, 3), seed=5)[0]
    dense = np.asarray(conv(image[None]))[0]
    assert dense.shape == (4, 6, 2)
    crops = np.stack([image[i * 2:i * 2 + 24, j * 2:j * 2 + 24]
                      for i in range(4) for j in range(6)])
    ref = np.asarray(model(crops, training=False)).reshape(4, 6, 2)
    assert np.max(np.abs(dense - ref)) <= ATOL
    np.testing.assert_allclose(dense.sum(-1), 1.0, atol=1e-6)  # softmax per cell, over classes


def test_same_padded_trunk_matches_on_its_size_and_says_why_windows_differ():
    keras.utils.set_random_seed(0)
    result = convolutionalize(C.same_padded_trunk(), input_size=(32, 32))
    assert result.same_size_diff <= ATOL
    assert result.window_diff is None
    assert any("padded" in n and "conv2d" in n for n in result.notes)
    assert result.output_shape == (9, 9, 2)


def test_free_input_size_runs_on_several_sizes():
    keras.utils.set_random_seed(0)
    model = C.seed_stack_no_dropout((20, 28, 3))
    conv = convolutionalize(model, input_size=(None, None)).model
    for h, w, want in ((20, 28, (1, 1)), (22, 28, (2, 1)), (40, 60, (11, 17))):
        out = conv(random_images(2, (h, w, 3)))
        assert tuple(out.shape) == (2, *want, 2)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_model_reloads_with_same_outputs(tmp_path, suffix):
    keras.utils.set_random_seed(0)
    model = C.functional_bn_head()
    conv = convolutionalize(model, input_size=(24, 40)).model
    path = tmp_path / f"conv{suffix}"
    conv.save(str(path))
    again = keras.saving.load_model(str(path), compile=False)
    x = random_images(2, (24, 40, 4))
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(conv(x)), atol=1e-6)


def test_keras2_h5_through_tf_keras(tmp_path):
    """A Keras 2 (tf_keras) Sequential saved as legacy HDF5 becomes a Keras 3 model."""
    tf_keras = pytest.importorskip("tf_keras")
    T = tf_keras.layers
    tf_keras.utils.set_random_seed(0)
    old = tf_keras.Sequential([
        T.Conv2D(32, (3, 3), padding="valid", activation="relu", input_shape=(20, 20, 3)),
        T.Conv2D(32, (3, 3), activation="relu"), T.BatchNormalization(),
        T.MaxPooling2D(pool_size=(2, 2)), T.Dropout(0.25), T.Flatten(),
        T.Dense(128, activation="relu"), T.Dropout(0.5), T.Dense(2), T.Activation("softmax")])
    path = tmp_path / "keras2.h5"
    old.save(str(path), save_format="h5")
    result = convolutionalize(path, input_size=(28, 36))
    assert result.plan.kind in ("tf_keras", "keras3")
    assert result.same_size_diff <= ATOL and result.window_diff <= ATOL
    assert type(result.model).__module__.startswith("keras")
    x = random_images(3, (20, 20, 3))
    ref = old(x, training=False).numpy()
    small = convolutionalize(old)  # the in-memory tf_keras model: layers rebuilt in Keras 3
    assert small.plan.kind == "tf_keras"
    assert np.max(np.abs(np.asarray(small.model(x))[:, 0, 0] - ref)) <= ATOL


def test_dense_kernel_reshape_is_channels_last_flatten_order():
    """Entry (y, x, c) of the map is Flatten index (y*w + x)*c_count + c."""
    h, w, c, units = 2, 3, 4, 5
    kernel = np.arange(h * w * c * units, dtype=np.float32).reshape(h * w * c, units)
    conv = dense_to_conv_kernel(kernel, (h, w, c))
    for y, x, ch in ((0, 0, 0), (1, 2, 3), (0, 1, 2)):
        np.testing.assert_array_equal(conv[y, x, ch], kernel[(y * w + x) * c + ch])
