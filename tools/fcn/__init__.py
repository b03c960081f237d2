"""The lane FCN (Keras 3): an encoder-decoder with skip connections over lane slots."""

__all__ = ["build_lanefcn", "LaneFCNConfig", "AddCoords", "CUSTOM_OBJECTS"]


def __getattr__(name):
    # Keras is imported only when the model is actually needed.
    if name in __all__:
        from lanecam.tools.fcn import model

        return getattr(model, name)
    raise AttributeError(name)
