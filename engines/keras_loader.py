"""The one loader of Keras models: Keras 3, legacy Keras 1/2 ``.h5`` through tf-keras, SavedModel.

The runtime's Keras engine and the offline tools (export, convolutionalize) load models through
``load_model`` here. TensorFlow is imported inside the functions, never at module import: the
runtime (``lanecam.pipeline``, ``lanecam.engines``) runs without it.

A file is loaded in the format ``keras_file.KerasFile`` decided from its first bytes, through
the handle the code check read: an HDF5 file by Keras 3's HDF5 loader, then tf_keras's, both
given the ``h5py.File`` the check read; a zip by Keras 3's ``.keras`` loader, given the same
open file. Never by the file's name, whose suffix Keras would otherwise dispatch on.
"""

import logging
import os
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from lanecam.engines.keras_code_scan import refuse_code_layers, trust_from_env
from lanecam.engines.keras_file import KerasFile
from lanecam.engines.keras_layers import custom_objects
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require

__all__ = ["LoadedModel", "load_model", "flatten_outputs", "import_tensorflow",
           "KERAS_SUFFIXES", "is_saved_model"]

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def is_saved_model(path) -> bool:
    """A TensorFlow SavedModel folder."""
    path = Path(path)
    return path.is_dir() and (path / "saved_model.pb").is_file()


class LoadedModel:
    """A model ready to convert: a TF-callable, its input shape and how it was loaded.

    Attributes:
        obj: the Keras model (Keras 3 or tf_keras) or the SavedModel signature wrapper.
        kind: "keras3", "tf_keras" or "saved_model".
        input_shape: the model's declared input shape, None where free (batch, maybe H and W).
        input_dtype: TensorFlow dtype name of the input ("float32" usually).
        source: where it came from, for messages.
    """

    def __init__(self, obj, kind: str, input_shape, input_dtype: str, source: str):
        self.obj = obj
        self.kind = kind
        self.input_shape = tuple(input_shape)
        self.input_dtype = input_dtype
        self.source = source

    def reference(self, x: np.ndarray) -> List[np.ndarray]:
        """Outputs of the original model for input ``x`` (NHWC), in ONNX output order."""
        if self.kind == "saved_model":
            return flatten_outputs(self.obj(x))
        return flatten_outputs(self.obj(x, training=False))


def flatten_outputs(outs) -> List[np.ndarray]:
    """A model call's outputs as a list of arrays: a dict in sorted key order (how tf2onnx
    orders them), a single tensor as a list of one."""
    if isinstance(outs, dict):
        outs = [outs[k] for k in sorted(outs)]
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    return [np.asarray(o) for o in outs]


def import_tensorflow(purpose: str = "loading a Keras model"):
    """Import TensorFlow without its start-up chatter on stderr.

    TensorFlow 2.21 writes its oneDNN / CUDA-stub / CPU-feature lines before it reads
    ``TF_CPP_MIN_LOG_LEVEL``, and a CUDA build complains about ``cuInit`` on machines without a
    driver when the devices are first listed; both go to file descriptor 2, so it points at
    /dev/null for the import and the first device listing only. Import errors still raise.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        tf = require("tensorflow", "train", purpose)
        tf.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    tf.get_logger().setLevel(logging.ERROR)
    return tf


def _keras_input(model, source: str) -> Tuple[tuple, str]:
    inputs = list(getattr(model, "inputs", None) or [])
    if len(inputs) != 1:
        raise InputError(f"{source}: expected a model with one image input, got {len(inputs)}")
    shape = tuple(None if d is None else int(d) for d in inputs[0].shape)
    dtype = inputs[0].dtype
    dtype = getattr(dtype, "name", None) or str(dtype)
    return shape, dtype


def _saved_model(path: Path, tf) -> LoadedModel:
    loaded = tf.saved_model.load(str(path))
    sig = getattr(loaded, "signatures", {}).get("serving_default")
    if sig is None:
        raise InputError(f"{path}: SavedModel has no 'serving_default' signature")
    specs = sig.structured_input_signature[1]
    if len(specs) != 1:
        raise InputError(f"{path}: expected one image input in serving_default, got {sorted(specs)}")
    (in_key, in_spec), = specs.items()
    out_keys = sorted(sig.structured_outputs)

    def call(x):
        res = sig(**{in_key: tf.convert_to_tensor(x, in_spec.dtype)})
        return [res[k] for k in out_keys]

    shape = tuple(None if d is None else int(d) for d in in_spec.shape)
    return LoadedModel(call, "saved_model", shape, in_spec.dtype.name, str(path))


def load_model(model_or_path, trust_code: Optional[bool] = None) -> LoadedModel:
    """Load a Keras 3 ``.keras``/``.h5``, a legacy Keras 1/2 ``.h5`` (through tf_keras) or a
    SavedModel folder; an in-memory Keras model is taken as is.

    The one place lanecam loads Keras models (engines, export, convolutionalize, train), with
    one policy: a model with a ``Lambda`` layer (Python code that loading runs) is refused
    before any deserialisation, from its configuration read as plain JSON
    (``keras_code_scan``), unless ``trust_code`` is true. ``trust_code=None`` means
    ``$LANECAM_TRUST_MODEL_CODE``. Untrusted Keras 3 files also load with ``safe_mode=True``.
    The file's format is decided once from its first bytes (``KerasFile``: HDF5 or zip, and a
    file that is both is refused); the check and the load read it through one open handle.

    Raises:
        InputError: the path is missing, of another type, carries code (not trusted), is not
            (or is more than) one Keras format, or no Keras can read it.
        MissingDependencyError: TensorFlow/Keras (the ``train`` extra) is not installed.
    """
    trusted = trust_from_env() if trust_code is None else bool(trust_code)
    if not isinstance(model_or_path, (str, os.PathLike)):
        import_tensorflow()
        shape, dtype = _keras_input(model_or_path, "model")
        kind = "tf_keras" if type(model_or_path).__module__.startswith("tf_keras") else "keras3"
        return LoadedModel(model_or_path, kind, shape, dtype, type(model_or_path).__name__)
    path = Path(model_or_path)
    if path.is_dir():
        if not is_saved_model(path):
            raise InputError(f"{path}: a folder must be a SavedModel (saved_model.pb not found)")
        if not trusted:
            refuse_code_layers(path)  # before TensorFlow is even imported
        return _saved_model(path, import_tensorflow())
    if not path.is_file():
        raise InputError(f"{path}: model file not found")
    if path.suffix.lower() not in KERAS_SUFFIXES:
        raise InputError(f"{path}: expected a .keras, .h5 file or a SavedModel folder")
    with KerasFile(path) as kf:
        if not trusted:
            refuse_code_layers(path, kf)  # before TensorFlow is even imported
        import_tensorflow()
        keras = require("keras", "train", "loading a Keras model")
        custom_objects()  # registers lanecam's own layers (LaneFCN's AddCoords) by their names
        if kf.format == "zip":
            model, kind = _load_zip(kf, keras, trusted), "keras3"
        else:
            model, kind = _load_h5(kf, keras, trusted)
    shape, dtype = _keras_input(model, str(path))
    return LoadedModel(model, kind, shape, dtype, str(path))


def _load_zip(kf: KerasFile, keras, trusted: bool):
    """A ``.keras`` archive, by Keras 3's zip loader reading ``kf``'s open file (whatever the
    file is named: ``keras.saving.load_model`` would pick the loader by the suffix)."""
    try:
        from keras.src.saving import saving_lib
    except ImportError:  # a Keras 3 without it: the public loader, which needs the .keras name
        saving_lib = None
    try:
        if saving_lib is not None:
            kf.fh.seek(0)
            return saving_lib.load_model(kf.fh, compile=False, safe_mode=not trusted)
        if kf.path.suffix.lower() != ".keras":
            raise InputError(f"{kf.path}: a .keras zip archive under another name; rename it "
                             f"to .keras")
        return keras.saving.load_model(str(kf.path), compile=False, safe_mode=not trusted)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - Keras reports bad archives with assorted errors
        raise InputError(f"{kf.path}: Keras 3 could not load it: {exc}") from None


def _load_h5(kf: KerasFile, keras, trusted: bool):
    """An HDF5 model: Keras 3's HDF5 loader, else tf_keras's (Keras 1/2 configs), both given
    the ``h5py.File`` on ``kf``'s open file that the code check read."""
    h5 = kf.h5()
    try:
        from keras.src.legacy.saving import legacy_h5_format
    except ImportError:
        legacy_h5_format = None
    try:
        if legacy_h5_format is not None:
            return legacy_h5_format.load_model_from_hdf5(h5, compile=False,
                                                         safe_mode=not trusted), "keras3"
        if kf.path.suffix.lower() not in (".h5", ".hdf5"):
            raise ValueError("this Keras 3 reads HDF5 files named .h5 only")
        return keras.saving.load_model(str(kf.path), compile=False,
                                       safe_mode=not trusted), "keras3"
    except Exception as exc3:  # Keras 3 rejects Keras 1/2 HDF5 configs with assorted errors
        tf_keras = require("tf_keras", "train", "loading a legacy Keras 1/2 .h5 model")
        try:
            return tf_keras.models.load_model(h5, compile=False), "tf_keras"
        except Exception as exc2:  # noqa: BLE001 - as above
            raise InputError(f"{kf.path}: neither Keras 3 ({str(exc3)[:120]}) nor tf_keras "
                             f"({str(exc2)[:120]}) could load it") from None
