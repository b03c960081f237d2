"""Training and measuring for the convolutionalization experiment (TensorFlow, lazily).

Every model is trained the same way: categorical cross-entropy, batch 32, a fixed number of
epochs over the same patches, ``keras.utils.set_random_seed(seed)`` before building and before
training, test accuracy measured after every epoch.
"""

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from lanecam.pipeline.lazy import require

__all__ = ["Data", "make_optimizer", "fit", "accuracy", "probabilities", "dead_units",
           "OPTIMIZERS"]

# The seed's Dense model is Keras 1's mnist_cnn.py example, compiled with 'adadelta', whose
# learning rate was 1.0 in Keras 1 and 2 (Keras 3's 'adadelta' string means 0.001).
OPTIMIZERS = {
    "adadelta": lambda k: k.optimizers.Adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-7),
    "adam": lambda k: k.optimizers.Adam(learning_rate=1e-3),
}


def _keras():
    return require("keras", "train", "the convolutionalization experiment")


@dataclass
class Data:
    """Patches: x float32 (N, s, s, 3) in [0, 1]; y int64 (N,) 1 lane, 0 no lane."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def make_optimizer(name: str):
    """A fresh optimizer (no state) by name: "adadelta" (lr 1.0) or "adam" (lr 1e-3)."""
    return OPTIMIZERS[name](_keras())


def probabilities(model, x: np.ndarray) -> np.ndarray:
    """(N, classes) outputs of ``model`` whatever its output rank (1x1 maps are flattened)."""
    out = np.asarray(model.predict(x, batch_size=256, verbose=0))
    return out.reshape(len(x), -1)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of patches whose argmax class is the label."""
    return float(np.mean(probabilities(model, x).argmax(1) == y))


def _targets(model, y: np.ndarray) -> np.ndarray:
    onehot = np.eye(2, dtype=np.float32)[y]
    rank = len(model.outputs[0].shape)
    return onehot.reshape((len(y),) + (1,) * (rank - 2) + (2,))


@dataclass
class FitResult:
    """Test accuracy after each epoch, the final one, and the wall time (s)."""

    curve: List[float]
    seconds: float
    train_accuracy: float
    extra: Dict[str, float] = field(default_factory=dict)

    @property
    def final(self) -> float:
        return self.curve[-1]


def fit(model, data: Data, epochs: int, optimizer: str, seed: int,
        batch: int = 32) -> FitResult:
    """Train ``model`` (compiled here with a fresh ``optimizer``) and record test accuracy."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=make_optimizer(optimizer), loss="categorical_crossentropy")
    y = _targets(model, data.y_train)
    t0 = time.perf_counter()
    curve = []
    for _ in range(epochs):
        model.fit(data.x_train, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)
        curve.append(round(accuracy(model, data.x_test, data.y_test), 4))
    seconds = time.perf_counter() - t0
    train_acc = accuracy(model, data.x_train[:1000], data.y_train[:1000])
    return FitResult(curve, round(seconds, 1), round(train_acc, 4))


def dead_units(model, layer_name: str, x: np.ndarray) -> Optional[float]:
    """Fraction of the ReLU units (channels) of ``layer_name`` that output 0 on every patch of
    ``x`` (dead units: they pass no gradient), or None when the layer is missing."""
    keras = _keras()
    names = [ly.name for ly in model.layers]
    if layer_name not in names:
        return None
    probe = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    act = np.asarray(probe.predict(x, batch_size=256, verbose=0))
    act = act.reshape(-1, act.shape[-1])
    return float(np.mean(np.all(act <= 0.0, axis=0)))
