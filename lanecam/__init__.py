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

__version__ = "0.1.0"

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
