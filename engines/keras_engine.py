"""KerasEngine: the reference engine, running the Keras model itself with TensorFlow.

It answers "does the deployed model compute what I trained?": the same frames through the
``.keras``/``.h5`` file and through its ONNX export or TensorRT plan, in the same pipeline
(``lanecam run drive.mp4 --engine keras``, ``lanecam bench --engine keras,onnxruntime``). It is
not meant to be fast.

TensorFlow is never imported by this module at import time: the runtime runs without it (a
Jetson has numpy, OpenCV and TensorRT only). Constructing the engine finds the ModelSpec,
imports TensorFlow (the ``train`` extra), loads the model through the one Keras loader
(``lanecam.engines.keras_loader``: Keras 3, legacy Keras 1/2 ``.h5`` through tf-keras,
SavedModel folders) and checks it against the spec; ``open()`` traces it.
"""

from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from lanecam.engines.base import Engine
from lanecam.engines.inputspec import find_spec
from lanecam.engines.keras_file import KerasFile
from lanecam.engines.keras_loader import (KERAS_SUFFIXES, flatten_outputs, import_tensorflow,
                                          is_saved_model, load_model)
from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError

__all__ = ["KerasEngine", "KERAS_SUFFIXES", "is_saved_model"]


class KerasEngine(Engine):
    """Runs a Keras lane model (``.keras``, ``.h5`` or a SavedModel folder) with TensorFlow.

    Args:
        model_path: the Keras file or SavedModel folder.
        spec: its ModelSpec; None reads ``<stem>.spec.json`` next to the model (what
            ``lanecam train`` and ``lanecam export`` write).
        trust_model_code: load a model with Lambda layers (their code runs); None follows
            ``$LANECAM_TRUST_MODEL_CODE`` (``keras_loader.load_model``'s policy).

    The outputs are told apart the way ``lanecam export`` names them: the rank-4 output is
    ``spec.seg_output``, a rank-2 output ``spec.exist_output``. An NCHW spec (a model exported
    with ``--nchw``) is accepted: the input is transposed back to the model's NHWC.
    ``infer()`` returns the engine's own output buffers, overwritten by the next call.
    """

    name = "keras"

    def __init__(self, model_path, spec: Optional[ModelSpec] = None,
                 trust_model_code: Optional[bool] = None):
        self.model_path = Path(model_path)
        self.trust_model_code = trust_model_code
        if not (self.model_path.is_file() or is_saved_model(self.model_path)):
            raise InputError(f"{self.model_path}: model file not found")
        if self.model_path.is_file() and self.model_path.suffix.lower() not in KERAS_SUFFIXES:
            raise InputError(f"{self.model_path}: the keras engine reads .keras, .h5 or SavedModel "
                             "models; use --engine onnxruntime or tensorrt for this file")
        if self.model_path.is_file():
            with KerasFile(self.model_path):   # not a Keras file at all: say so before the spec
                pass
        # a Keras file embeds no spec: the argument, else the sidecar
        self.spec = find_spec(self.model_path, ModelSpec, spec,
                              hint="pass --spec SPEC.json (lanecam export writes one)")
        self.precision = "fp32"
        self.providers: List[str] = []
        self._call = None
        self._outputs: Dict[str, np.ndarray] = {}
        # Load and check the model now, in the calling thread before any stage runs, the way
        # the ONNX Runtime engine checks its file: a missing extra, a file Keras cannot read or
        # a model that does not match its spec is bad input reported at start (exit 2), not a
        # failure of the infer stage. TensorFlow's start-up chatter on stderr is silenced
        # while nothing else can be writing there. Keras models may be called from any thread.
        self._loaded = self._load_and_check()

    def _load_and_check(self):
        # load_model checks the file (format, Lambda layers) before it imports TensorFlow
        loaded = load_model(self.model_path, trust_code=self.trust_model_code)
        where, s = str(self.model_path), self.spec
        shape = loaded.input_shape
        want = (s.input_height, s.input_width, 3)
        if len(shape) != 4 or any(d is not None and d != w for d, w in zip(shape[1:], want)):
            raise InputError(f"{where}: input shape {list(shape)}, the ModelSpec expects "
                             f"[N, {s.input_height}, {s.input_width}, 3] (NHWC inside Keras)")
        if loaded.input_dtype != s.dtype:
            raise InputError(f"{where}: input is {loaded.input_dtype}, the ModelSpec expects "
                             f"{s.dtype}")
        self.dynamic_batch = shape[0] is None
        # one eager call tells the outputs apart and checks them against the spec
        self._order = self._name_outputs(loaded.reference(np.zeros((1,) + want, s.dtype)))
        return loaded

    # ---- lifecycle ---------------------------------------------------------------------------
    def _open(self) -> None:
        """Trace the model once into a graph function and allocate the output buffers."""
        tf = import_tensorflow("the Keras engine")
        loaded, s = self._loaded, self.spec
        want = (s.input_height, s.input_width, 3)
        if loaded.kind == "saved_model":
            call = loaded.reference
        else:
            # one traced graph (eager calls cost several times more); the explicit signature
            # keeps TensorFlow from tracing again on the first real frame (~1 s) or per batch size
            sig = [tf.TensorSpec((None,) + want, tf.as_dtype(s.dtype))]
            fn = tf.function(lambda x: loaded.obj(x, training=False), input_signature=sig)
            call = lambda x: flatten_outputs(fn(x))  # noqa: E731
        first = call(np.zeros((1,) + want, np.dtype(s.dtype)))
        self._outputs = {n: np.empty_like(a) for n, a in zip(self._order, first)}
        self._call = call
        gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
        self.providers = ["tensorflow-gpu" if gpus else "tensorflow-cpu"]

    def _name_outputs(self, arrays: List[np.ndarray]) -> List[str]:
        """The spec's output names in the model's output order (rank 4: seg, rank 2: exist)."""
        s, where = self.spec, str(self.model_path)
        ranks = [a.ndim for a in arrays]
        if ranks.count(4) != 1 or ranks.count(2) > 1 or set(ranks) - {2, 4}:
            raise InputError(f"{where}: outputs of ranks {ranks}: expected one per-pixel map "
                             "(rank 4) and at most one existence vector (rank 2)")
        if (2 in ranks) != bool(s.exist_output):
            raise InputError(f"{where}: {'an' if 2 in ranks else 'no'} existence output, but "
                             f"the ModelSpec's exist_output is {s.exist_output!r}")
        seg = arrays[ranks.index(4)]
        channels = seg.shape[3 if s.output_layout == "NHWC" else 1]
        if channels != s.num_classes:
            raise InputError(f"{where}: per-pixel output has {channels} channels, the ModelSpec "
                             f"names {s.num_classes} classes {list(s.class_names)}")
        return [s.seg_output if r == 4 else s.exist_output for r in ranks]

    def _close(self) -> None:
        """Drop the traced function and the output buffers (the loaded model is kept, so the
        engine can be opened again)."""
        self._call = None
        self._outputs = {}

    # ---- inference ---------------------------------------------------------------------------
    def _to_nhwc(self, tensor: np.ndarray) -> np.ndarray:
        if self.spec.layout == "NCHW":
            tensor = tensor.transpose(0, 2, 3, 1)
        return np.ascontiguousarray(tensor)

    def _infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one input; returns ``{output name: array}`` in the engine's reused buffers."""
        results = self._call(self._to_nhwc(tensor))
        for name, value in zip(self._order, results):
            np.copyto(self._outputs[name], value)
        return self._outputs

    def _infer_batch(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """Run a batch (Keras models with a free batch size); returns new arrays."""
        results = self._call(self._to_nhwc(tensor))
        return {name: np.array(value) for name, value in zip(self._order, results)}
