"""lanecam: real-time lane detection on dashcam video.

The Python API::

    from lanecam import LaneDetector
    detector = LaneDetector()            # bundled model on ONNX Runtime
    result = detector(frame)             # BGR uint8 HxWx3, any size
    annotated = detector.draw(frame, result)

The packages under this namespace: ``lanecam.pipeline`` (the runtime: frames, rings, stages,
sources, sinks, preprocessing, lanes, geometry, overlay, the CLI), ``lanecam.engines``
(inference backends and the ModelSpec), ``lanecam.calibration`` (camera and INT8 calibration)
and ``lanecam.tools`` (offline work that may need TensorFlow).

Names are imported on first use, so ``import lanecam`` (and ``lanecam --help``) costs nothing
and works before OpenCV or ONNX Runtime are importable.
"""

import importlib
import os as _os

__version__ = "0.1.0"

# Why this is here: in a source checkout this file is ``<repo>/lanecam/__init__.py`` and the
# subpackages are the repository's top-level folders (``<repo>/pipeline``, ``<repo>/engines``,
# ...), which setup.py maps to ``lanecam.<folder>`` only when installing. Any Python started in
# the repository root (``python -m pytest``, a Ray worker, a spawned process, a script that puts
# the root on sys.path) finds this folder before an installed copy, so without this line
# ``lanecam.pipeline`` would not resolve after a regular ``pip install .``. Searching the
# checkout root as well makes ``lanecam.<folder>`` the checkout's own code there, however the
# project was installed (regularly, editable, or not at all); installed in site-packages, the
# parent holds no ``setup.py`` + ``pipeline/`` and nothing changes.
# (os.path, not pathlib: pathlib pulls in re and enum, and every module imported here widens
# the start-up window in which a Ctrl-C arrives before lanecam's own handler is installed)
_CHECKOUT = _os.path.dirname(_os.path.dirname(_os.path.realpath(__file__)))
if (_os.path.isfile(_os.path.join(_CHECKOUT, "setup.py"))
        and _os.path.isfile(_os.path.join(_CHECKOUT, "pipeline", "__init__.py"))):
    __path__.append(_CHECKOUT)  # noqa: F821 (a package's __path__)

# public name -> module that defines it (imported on first access, PEP 562)
_EXPORTS = {
    "LaneDetector": "lanecam.pipeline.detector",
    "DetectorConfig": "lanecam.pipeline.detector",
    "Lane": "lanecam.pipeline.lanes.result",
    "LaneResult": "lanecam.pipeline.lanes.result",
    "ModelSpec": "lanecam.engines.modelspec",
    "open_engine": "lanecam.engines.loader",
    "open_source": "lanecam.pipeline.sources",
    "LanecamError": "lanecam.pipeline.errors",
    "InputError": "lanecam.pipeline.errors",
    "MissingDependencyError": "lanecam.pipeline.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lanecam' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return __all__
