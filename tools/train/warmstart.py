"""Warm start: a new LaneFCN begins from the weights of a saved one, layer by layer."""

from lanecam.pipeline.errors import InputError

__all__ = ["warm_start"]


def warm_start(model, path: str) -> str:
    """Copy into ``model`` every layer's weights from the saved LaneFCN at ``path`` whose layer
    name and weight shapes match (convolution weights do not depend on the input size, so a
    model trained at 320x128 starts one at 384x160). Returns what was copied, for the log."""
    from lanecam.engines.keras_loader import load_model

    src = load_model(path).obj
    by_name = {layer.name: layer for layer in src.layers}
    copied = skipped = 0
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        other = by_name.get(layer.name)
        theirs = other.get_weights() if other is not None else []
        if len(theirs) == len(weights) and all(a.shape == b.shape for a, b in zip(weights, theirs)):
            layer.set_weights(theirs)
            copied += 1
        else:
            skipped += 1
    if not copied:
        raise InputError(f"{path}: no layer matches this network; cannot warm-start from it")
    return f"{copied} layers copied, {skipped} left at their initial values"
