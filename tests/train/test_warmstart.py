"""Warm start: copied layers, and a wider network that starts as the same function."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from lanecam.pipeline.errors import InputError  # noqa: E402
from lanecam.tools.fcn import LaneFCNConfig, build_lanefcn  # noqa: E402
from lanecam.tools.train.warmstart import warm_start  # noqa: E402


def _saved(tmp_path, config, seed=1):
    keras.utils.set_random_seed(seed)
    model = build_lanefcn(config)
    x = np.random.default_rng(0).random((2, 64, 160, 3), dtype=np.float32)
    # give BatchNorm non-trivial statistics, as a trained model has
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            rng = np.random.default_rng(len(layer.name))
            layer.set_weights([g * rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                               rng.normal(0, 0.1, m.shape), rng.uniform(0.5, 2.0, v.shape)])
    path = tmp_path / "old.keras"
    model.save(path)
    return model, path, x


SMALL = LaneFCNConfig(input_height=64, input_width=160, widths=(8, 8, 12, 12, 16),
                      decoder_width=8)


def test_same_shapes_copy_every_layer(tmp_path):
    old, path, x = _saved(tmp_path, SMALL)
    keras.utils.set_random_seed(7)
    new = build_lanefcn(SMALL)
    said = warm_start(new, str(path))
    weighted = sum(1 for layer in new.layers if layer.get_weights())
    assert said == f"{weighted} layers copied, 0 left at their initial values"
    for k in ("lane_prob", "lane_exist"):
        np.testing.assert_allclose(np.asarray(new(x)[k]), np.asarray(old(x)[k]), atol=1e-6)


def test_a_wider_network_starts_as_the_same_function_and_can_learn(tmp_path):
    old, path, x = _saved(tmp_path, SMALL)
    wide = LaneFCNConfig(input_height=64, input_width=160, widths=(12, 16, 16, 24, 32),
                         decoder_width=12, dilations=(2, 4, 8, 16))
    keras.utils.set_random_seed(7)
    new = build_lanefcn(wide)
    said = warm_start(new, str(path))
    assert "widened" in said and "1 new context blocks started at zero" in said
    for k in ("lane_prob", "lane_exist"):   # inference mode: the saved model's outputs exactly
        np.testing.assert_allclose(np.asarray(new(x)[k]), np.asarray(old(x)[k]), atol=1e-5)
    # the new channels are live: their activations are not all zero
    feats = keras.Model(new.input, new.get_layer("enc3_pw_relu").output)(x)
    assert np.abs(np.asarray(feats)[..., 12:]).max() > 0


def test_an_unrelated_network_is_refused(tmp_path):
    _, path, _ = _saved(tmp_path, SMALL)
    keras.utils.set_random_seed(7)
    other = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="x")])
    with pytest.raises(InputError, match="no layer matches"):
        warm_start(other, str(path))
