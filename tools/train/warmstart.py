"""Warm start: a new LaneFCN begins from the weights of a saved one, layer by layer.

Two cases per layer (matched by name):

- **same shapes**: the weights are copied (convolution weights do not depend on the input
  size, so a model trained at 320x128 starts one at 384x160);
- **wider**: the new layer has more channels than the saved one (``--widths`` or
  ``--decoder-width`` raised). The saved weights are embedded in the first channels and the
  network starts as the *same function* as the saved one: every weight from a new channel
  into an old one is zero, so the new channels cannot change what the old ones compute, and
  the heads read only the old channels until training teaches them otherwise. The new
  channels' own weights keep their random initial values, so they do carry signal and get
  gradients (the Net2Net idea of growing a trained network, done with zeros instead of
  splitting units).

A layer that exists only in the new network and would change the function (a new residual
context block) starts with a zero last convolution, so it adds nothing until trained.
"""

from typing import List

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["warm_start"]

# Layers whose input ends with AddCoords' two coordinate channels (after the features): when the
# features widen, those two input rows move to the end of the wider input.
COORD_INPUT_LAYERS = ("ctx0_conv",)


def _embed_kernel(old: np.ndarray, new: np.ndarray, coords: bool) -> np.ndarray:
    """A Conv2D kernel (kh, kw, in, out): the old one in the first in/out channels, zero from
    new inputs into old outputs, the random initial values elsewhere."""
    out = new.copy()
    in_old, out_old = old.shape[2], old.shape[3]
    out[:, :, :, :out_old] = 0.0
    if coords:   # features first, then the two coordinates, in both kernels
        feat = in_old - 2
        out[:, :, :feat, :out_old] = old[:, :, :feat]
        out[:, :, -2:, :out_old] = old[:, :, feat:]
    else:
        out[:, :, :in_old, :out_old] = old
    return out


def _embed(layer, old_weights: List[np.ndarray], new_weights: List[np.ndarray]):
    """The new layer's weights with the old ones embedded, or None when they do not fit."""
    if len(old_weights) != len(new_weights) or any(
            o.ndim != n.ndim or any(a > b for a, b in zip(o.shape, n.shape))
            for o, n in zip(old_weights, new_weights)):
        return None
    kind = type(layer).__name__
    result = []
    for o, n in zip(old_weights, new_weights):
        if kind == "Conv2D" and o.ndim == 4:
            result.append(_embed_kernel(o, n, layer.name in COORD_INPUT_LAYERS))
        elif o.ndim == 4:          # DepthwiseConv2D (kh, kw, channels, 1): one filter per channel
            e = n.copy()
            e[:, :, :o.shape[2], :o.shape[3]] = o
            result.append(e)
        elif o.ndim == 1:          # bias, BatchNorm gamma/beta/mean/variance: per channel
            e = n.copy()
            e[:o.shape[0]] = o
            result.append(e)
        else:
            return None
    return result


def warm_start(model, path: str) -> str:
    """Copy (or, for wider layers, embed) into ``model`` the weights of the saved LaneFCN at
    ``path``, matching layers by name. Returns what was done, for the log."""
    from lanecam.engines.keras_loader import load_model

    src = load_model(path).obj
    by_name = {layer.name: layer for layer in src.layers}
    copied = grown = added = skipped = 0
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        other = by_name.get(layer.name)
        theirs = other.get_weights() if other is not None else []
        if len(theirs) == len(weights) and all(a.shape == b.shape for a, b in zip(weights, theirs)):
            layer.set_weights(theirs)
            copied += 1
            continue
        embedded = _embed(layer, theirs, weights) if other is not None else None
        if embedded is not None:
            layer.set_weights(embedded)
            grown += 1
        elif other is None and layer.name.startswith("ctx") and layer.name.endswith("_pw_conv"):
            # a new residual context block: zero output, so the sum it feeds is unchanged
            layer.set_weights([np.zeros_like(w) for w in weights])
            added += 1
        else:
            skipped += 1
    if not copied and not grown:
        raise InputError(f"{path}: no layer matches this network; cannot warm-start from it")
    done = f"{copied} layers copied"
    if grown:
        done += f", {grown} widened (same function at the start)"
    if added:
        done += f", {added} new context blocks started at zero"
    return done + f", {skipped} left at their initial values"
