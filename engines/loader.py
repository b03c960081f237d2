"""Pick and build an engine for a model: ``open_engine(model, engine="auto")``.

Engines are registered by name with the module that implements them, imported only when
chosen. ``auto`` takes TensorRT for a TensorRT plan, Keras (the reference engine, TensorFlow)
for a ``.keras``/``.h5`` file or a SavedModel folder, TensorRT for an ONNX model on a machine
where ``tensorrt`` and ``pycuda`` are installed, and ONNX Runtime otherwise.
"""

import importlib
import importlib.util
from pathlib import Path
from typing import Dict, Optional

from lanecam.engines.base import Engine
from lanecam.engines.keras_loader import KERAS_SUFFIXES, is_saved_model
from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require

__all__ = ["open_engine", "default_model_path", "resolve_model", "register_engine",
           "ENGINE_NAMES", "NAMED_MODELS", "model_files"]

_PLAN_SUFFIXES = (".plan", ".engine", ".trt")

# name -> "module:Class"; a None value is a known engine that is not available
_ENGINES: Dict[str, Optional[str]] = {
    "onnxruntime": "lanecam.engines.onnxruntime_engine:OnnxRuntimeEngine",
    "tensorrt": "lanecam.engines.tensorrt_engine:TensorRTEngine",
    "keras": "lanecam.engines.keras_engine:KerasEngine",
}
ENGINE_NAMES = ("auto",) + tuple(_ENGINES)
# options that only mean something to one engine: dropped for the others, so one call (the
# CLI's) can carry them whichever engine "auto" picks
_ONLY_FOR = {"threads": "onnxruntime", "spinning": "onnxruntime", "providers": "onnxruntime",
             "cache_dir": "tensorrt", "dla_core": "tensorrt", "precision": "tensorrt",
             "workspace_mib": "tensorrt", "device": "tensorrt", "trust_model_code": "keras"}


# bundled models by name (``--model default``, ``LaneDetector(model="default")``): name ->
# folder under engines/models. Only the default ships today; a slower default would keep the
# fastest good model beside it under a name of its own (docs/model.md, "v6 candidates").
NAMED_MODELS = {"default": "lanefcn"}


def default_model_path(engine: str = "auto", name: str = "default") -> Path:
    """A bundled model: ``engines/models/<folder>/lanefcn.onnx`` (``NAMED_MODELS[name]``), or
    its Keras original ``lanefcn.keras`` for the keras engine."""
    suffix = ".keras" if engine == "keras" else ".onnx"
    return Path(__file__).resolve().parent / "models" / NAMED_MODELS[name] / f"lanefcn{suffix}"


def resolve_model(model, engine: str = "auto") -> Path:
    """The file a ``--model`` value means: None is the bundled default, a bundled model's name
    (``NAMED_MODELS``) is that model unless a file of that name exists here, anything else a
    path."""
    if model is None:
        return default_model_path(engine)
    if str(model) in NAMED_MODELS and not Path(model).exists():
        return default_model_path(engine, str(model))
    return Path(model)


def model_files(model=None, engine: str = "auto", flag: str = "--model") -> Dict[str, str]:
    """The files a run reads for ``model`` (None: the bundled one), by what names them, for
    the output alias check (``check_outputs``): the model itself and, when present, the
    ModelSpec sidecar beside it (``<stem>.spec.json``) and a TensorRT plan's sidecar."""
    from lanecam.engines.engine_cache import sidecar_path_for
    from lanecam.engines.inputspec import spec_path_for

    path = resolve_model(model, engine)
    files = {flag: str(path)}
    for what, extra in (("spec", spec_path_for(path)), ("plan sidecar", sidecar_path_for(path))):
        if extra.is_file():
            files[f"{flag} {what}"] = str(extra)
    return files


def register_engine(name: str, target: str) -> None:
    """Make ``open_engine(engine=name)`` build ``target`` (``"module:Class"``)."""
    _ENGINES[name] = target


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _auto(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _PLAN_SUFFIXES:
        return "tensorrt"
    if suffix in KERAS_SUFFIXES or path.is_dir():
        return "keras"
    if _has("tensorrt") and _has("pycuda"):
        return "tensorrt"
    return "onnxruntime"


def open_engine(model=None, engine: str = "auto", spec: Optional[ModelSpec] = None,
                **options) -> Engine:
    """The engine for ``model``, constructed (model and spec checked) but not opened.

    Args:
        model: model path; None for the bundled model.
        engine: "auto", "onnxruntime", "tensorrt" or "keras".
        spec: the ModelSpec; None to read it from the model (metadata or sidecar).
        **options: passed to the engine; None values dropped, and so are options of another
            engine (``threads=`` for ONNX Runtime, ``cache_dir=`` for TensorRT...).

    Raises:
        InputError: the model is missing or invalid, or the engine name is unknown.
        MissingDependencyError: the chosen engine's library is not installed.
    """
    path = resolve_model(model, engine)
    if not path.is_file() and not is_saved_model(path):
        if model is None or str(model) in NAMED_MODELS:
            raise InputError(f"{path}: the bundled model is missing; pass --model PATH")
        raise InputError(f"{path}: is a folder, expected a model file" if path.is_dir()
                         else f"{path}: model file not found")
    if engine not in ENGINE_NAMES and engine not in _ENGINES:
        raise InputError(f"engine {engine!r}: expected one of {', '.join(ENGINE_NAMES)}")
    name = _auto(path) if engine == "auto" else engine
    target = _ENGINES.get(name)
    if target is None:
        raise InputError(f"{path}: the {name} engine is not available in this installation")
    options = {k: v for k, v in options.items()
               if v is not None and _ONLY_FOR.get(k, name) == name}
    if name == "tensorrt":
        # fail now with the extra to install, not later inside the inference thread
        require("tensorrt", "trt", "the TensorRT engine")
        require("pycuda.driver", "trt", "the TensorRT engine")
    elif name == "keras":
        pass  # KerasEngine checks the file type and names the extra itself
    elif path.is_dir() or path.suffix.lower() in _PLAN_SUFFIXES + KERAS_SUFFIXES:
        what = "a folder" if path.is_dir() else f"{path.suffix} files"
        raise InputError(f"{path}: the {name} engine reads .onnx models, not {what}")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)(path, spec=spec, **options)
