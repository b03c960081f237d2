"""Lazy imports of heavy optional libraries with an error that names the extra to install."""

import importlib

from lanecam.pipeline.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str, purpose: str = ""):
    """Import ``module`` or raise ``MissingDependencyError`` naming ``lanecam[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        from lanecam.pipeline import signals

        if signals.received() is not None:
            # a stop signal raised inside a C extension's initialisation comes out as an
            # ImportError ("... failed to import"): the library is there, the user stopped us
            raise signals.Interrupted(signals.received()) from None
        raise MissingDependencyError(module, extra, purpose) from exc
