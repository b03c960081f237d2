"""The experiments that test each explanation of the seed's failure (see
``docs/convolutionalization.md``): what the softmax normalises over, channel order when weights
are copied, the initialisation of a whole-map kernel, and the optimiser's first steps."""

import math
from typing import Dict, List

import numpy as np

from experiments.convolutionalization.exp_train import Data, accuracy, dead_units, make_optimizer
from experiments.convolutionalization.patches import PatchConfig, frame_labels, frame_tensor
from experiments.convolutionalization.seed_models import pooled_size, seed_conv, seed_dense
from lanecam.pipeline.lazy import require
from lanecam.tools.convolutionalize.build import dense_to_conv_kernel
from lanecam.tools.convolutionalize.convert import convolutionalize

__all__ = ["softmax_scope_1x1", "mis_sized_kernel", "dense_map_softmax", "channel_order",
           "wrongly_copied", "glorot_limits", "dense_like_initializer", "init_stats",
           "optimizer_shock"]


def _keras():
    return require("keras", "train", "the convolutionalization experiment")


def _probe(model, layer_name: str):
    keras = _keras()
    return keras.Model(model.inputs[0], model.get_layer(layer_name).output)


def _softmax(z: np.ndarray, axis) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_scope_1x1(model, x: np.ndarray) -> float:
    """For the seed's conv model (1x1 output map): max |Flatten -> softmax - softmax over the
    class channels|. Zero means the Flatten -> softmax of a 1x1 map is harmless."""
    logits_layer = [ly.name for ly in model.layers if type(ly).__name__ == "Conv2D"][-1]
    logits = np.asarray(_probe(model, logits_layer).predict(x, batch_size=256, verbose=0))
    channel = _softmax(logits, axis=-1).reshape(len(x), -1)
    seed_way = np.asarray(model.predict(x, batch_size=256, verbose=0))
    return float(np.max(np.abs(seed_way - channel)))


def mis_sized_kernel(patch: int) -> Dict[str, object]:
    """The seed's conv model with the big kernel sized for ``valid`` padding on the ``same``
    padded map: its output map is not 1x1. Can it be trained on (N, 2) labels?"""
    valid = pooled_size((patch, patch), "valid")
    model = seed_conv((patch, patch, 3), kernel_hw=valid, seed=0)
    out_shape = tuple(model.layers[-3].output.shape[1:])
    model.compile(optimizer=make_optimizer("adam"), loss="categorical_crossentropy")
    x = np.zeros((4, patch, patch, 3), np.float32)
    y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    try:
        model.train_on_batch(x, y)
        error = None
    except Exception as exc:  # noqa: BLE001 - the refusal is the measurement
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:160]}"
    return {"kernel": list(valid), "map_before_flatten": list(out_shape),
            "softmax_over": int(np.prod(out_shape)), "keras_error": error}


def dense_map_softmax(dense_model, frame_seeds, cfg: PatchConfig, render) -> Dict[str, float]:
    """The trained Dense classifier convolutionalized and run over whole road strips: per-cell
    lane decisions (p > 0.5) with the softmax over each cell's classes (what the tool does)
    versus Flatten -> softmax over the whole map (the seed's conv head on a larger input).

    Returns balanced accuracies (mean of the per-class recalls over labelled cells), the lane
    recall and the mean per-cell probability sum of each."""
    conv = convolutionalize(dense_model, input_size=(None, None)).model
    logits_name = [ly.name for ly in conv.layers if type(ly).__name__ == "Conv2D"][-1]
    logits_model = _probe(conv, logits_name)
    stats = {"cells": 0, "lane_cells": 0}
    hits = {"channel": [0, 0], "flat": [0, 0]}  # correct [no-lane, lane]
    sums = {"channel": [], "flat": []}
    scenes = [render(int(seed), cfg.frame_w, cfg.frame_h) for seed in frame_seeds]
    tops = [int(np.ceil(gt.horizon_y)) + 1 for _, gt in scenes]
    height = cfg.frame_h - max(tops)  # one strip size for all frames: one traced graph
    for (frame, gt), top in zip(scenes, tops):
        labels = frame_labels(frame, gt, top, cfg, 2)
        strip = frame_tensor(frame)[top:top + height]
        logits = np.asarray(logits_model(strip[None]))[0]
        rows, cols = min(labels.shape[0], logits.shape[0]), min(labels.shape[1], logits.shape[1])
        logits, labels = logits[:rows, :cols], labels[:rows, :cols]
        probs = {"channel": _softmax(logits, -1),
                 "flat": _softmax(logits.reshape(-1), 0).reshape(logits.shape)}
        known = labels >= 0
        stats["cells"] += int(known.sum())
        stats["lane_cells"] += int((labels == 1).sum())
        for key, p in probs.items():
            lane = p[..., 1] > 0.5
            hits[key][0] += int(np.sum(~lane & (labels == 0)))
            hits[key][1] += int(np.sum(lane & (labels == 1)))
            sums[key].append(float(p.sum(-1).mean()))
    neg = stats["cells"] - stats["lane_cells"]
    out = dict(stats)
    for key in hits:
        rec_neg = hits[key][0] / max(neg, 1)
        rec_pos = hits[key][1] / max(stats["lane_cells"], 1)
        out[f"{key}_balanced_accuracy"] = round(0.5 * (rec_neg + rec_pos), 4)
        out[f"{key}_lane_recall"] = round(rec_pos, 4)
        out[f"{key}_mean_cell_prob_sum"] = float(f"{np.mean(sums[key]):.3g}")
    return out


def _kernel_orders(kernel: np.ndarray, shape) -> Dict[str, np.ndarray]:
    h, w, c = shape
    units = kernel.shape[1]
    return {
        "channels_last (h, w, c): correct": dense_to_conv_kernel(kernel, shape),
        "channels_first (c, h, w)": kernel.reshape(c, h, w, units).transpose(1, 2, 0, 3),
        "rows and columns swapped (w, h, c)": kernel.reshape(w, h, c, units).transpose(1, 0, 2, 3),
    }


def channel_order(dense_model, data: Data) -> List[Dict[str, object]]:
    """Copy the trained Dense kernel into the whole-map convolution in three orders; test
    accuracy and max |output - Dense output| of each, without any training."""
    conv = convolutionalize(dense_model).model
    dense = [ly for ly in dense_model.layers if type(ly).__name__ == "Dense"][0]
    target = conv.get_layer(f"{dense.name}_conv")
    kernel, bias = dense.get_weights()
    flat = [ly for ly in dense_model.layers if type(ly).__name__ == "Flatten"][0]
    shape = tuple(int(d) for d in flat.input.shape[1:])
    ref = np.asarray(dense_model.predict(data.x_test, batch_size=256, verbose=0))
    rows = []
    for name, k in _kernel_orders(kernel, shape).items():
        target.set_weights([k, bias])
        out = np.asarray(conv.predict(data.x_test, batch_size=256, verbose=0)).reshape(ref.shape)
        rows.append({"order": name, "test_accuracy": round(accuracy(conv, data.x_test,
                                                                      data.y_test), 4),
                     "max_abs_diff": float(f"{np.max(np.abs(out - ref)):.3g}")})
    return rows


def wrongly_copied(dense_model, order: str):
    """The conv model with the Dense kernel copied in ``order`` (a key of ``_kernel_orders``)."""
    conv = convolutionalize(dense_model).model
    dense = [ly for ly in dense_model.layers if type(ly).__name__ == "Dense"][0]
    flat = [ly for ly in dense_model.layers if type(ly).__name__ == "Flatten"][0]
    kernel, bias = dense.get_weights()
    shape = tuple(int(d) for d in flat.input.shape[1:])
    conv.get_layer(f"{dense.name}_conv").set_weights([_kernel_orders(kernel, shape)[order], bias])
    return conv


def glorot_limits(patch: int) -> Dict[str, object]:
    """Keras's GlorotUniform limit sqrt(6 / (fan_in + fan_out)) of the seed's Dense(128) and of
    its whole-map Conv2D(256): a convolution's fan-out counts every kernel position
    (kh * kw * filters), so the whole-map kernel starts ~3x smaller."""
    dh, dw = pooled_size((patch, patch), "valid")
    ch, cw = pooled_size((patch, patch), "same")
    dense_in = dh * dw * 32
    conv_in, conv_out = ch * cw * 32, ch * cw * 256
    return {"dense_fan_in": dense_in, "dense_limit": math.sqrt(6 / (dense_in + 128)),
            "conv_fan_in": conv_in, "conv_fan_out": conv_out,
            "conv_limit": math.sqrt(6 / (conv_in + conv_out)),
            "conv_limit_if_dense": math.sqrt(6 / (conv_in + 256)),
            "dense_weights": dense_in * 128, "conv_weights": conv_in * 256}


def dense_like_initializer(patch: int, seed: int = 0):
    """The whole-map kernel initialised as a Dense(256) on the flattened map would be:
    GlorotUniform with fan_out = 256 instead of kh * kw * 256."""
    keras = _keras()
    lim = glorot_limits(patch)["conv_limit_if_dense"]
    return keras.initializers.RandomUniform(-lim, lim, seed=seed)


def init_stats(patch: int, x: np.ndarray, seed: int) -> Dict[str, float]:
    """Untrained models: std of the big layer's pre-activations and its dead units, Dense vs the
    seed's whole-map convolution (default and Dense-like initialisation)."""
    keras = _keras()
    out = {}
    cases = {"dense": (seed_dense((patch, patch, 3), seed=seed), "dense"),
             "conv": (seed_conv((patch, patch, 3), seed=seed), "whole_map_conv"),
             "conv_dense_like_init": (seed_conv((patch, patch, 3), seed=seed,
                                                big_kernel_initializer=dense_like_initializer(
                                                    patch)), "whole_map_conv")}
    for key, (model, layer) in cases.items():
        name = layer if layer in [ly.name for ly in model.layers] else \
            [ly.name for ly in model.layers if type(ly).__name__ == "Dense"][0]
        big = model.get_layer(name)
        linear = keras.Model(model.inputs[0], big.input)
        feats = np.asarray(linear.predict(x, batch_size=256, verbose=0))
        k, b = big.get_weights()
        z = feats.reshape(len(x), -1) @ k.reshape(-1, k.shape[-1]) + b
        out[f"{key}_preact_std"] = float(f"{z.std():.3g}")
        out[f"{key}_dead_at_init"] = float(np.mean(np.all(z <= 0, axis=0)))
        out[f"{key}_weight_std"] = float(f"{k.std():.3g}")
    return out


def optimizer_shock(model, layer_name: str, x: np.ndarray, y: np.ndarray, optimizer: str,
                    steps: int = 1, seed: int = 0) -> Dict[str, float]:
    """Train a *copy* of ``model`` for ``steps`` batches with a fresh ``optimizer``; how much the
    pre-activations of ``layer_name`` (a ReLU layer) move, relative to their spread, and how
    many of its units are dead before and after.

    Adaptive optimisers move every weight by about the same amount at first (Adam: lr *
    sign(gradient)); summed over a fan-in of n inputs the change of a unit grows with n."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    layer = clone.get_layer(layer_name)
    pre = keras.Model(clone.inputs[0], layer.input)
    k0, b0 = [np.array(w) for w in layer.get_weights()]
    feats = np.asarray(pre.predict(x, batch_size=256, verbose=0)).reshape(len(x), -1)
    z0 = feats @ k0.reshape(-1, k0.shape[-1]) + b0
    clone.compile(optimizer=make_optimizer(optimizer), loss="categorical_crossentropy")
    rank = len(clone.outputs[0].shape)
    onehot = np.eye(2, dtype=np.float32)[y].reshape((len(y),) + (1,) * (rank - 2) + (2,))
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.choice(len(x), 32, replace=False)
        clone.train_on_batch(x[idx], onehot[idx])
    k1, b1 = layer.get_weights()
    feats1 = np.asarray(pre.predict(x, batch_size=256, verbose=0)).reshape(len(x), -1)
    z1 = feats1 @ k1.reshape(-1, k1.shape[-1]) + b1
    return {"fan_in": int(k0.reshape(-1, k0.shape[-1]).shape[0]),
            "relative_change": float(f"{np.std(z1 - z0) / max(np.std(z0), 1e-12):.3g}"),
            "mean_weight_step": float(f"{np.mean(np.abs(k1 - k0)):.3g}"),
            "dead_before": float(np.mean(np.all(z0 <= 0, axis=0))),
            "dead_after": float(np.mean(np.all(z1 <= 0, axis=0)))}
