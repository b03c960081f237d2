"""HeatmapModel: a dense score-map ONNX model run on frames as a second engine.

The model is an ``OnnxRuntimeEngine`` with its ``HeatmapSpec`` (found and checked like any
model card: embedded in the ONNX metadata, or ``<stem>.spec.json``), fed by the one
``Preprocessor``: the frames it scores are cropped, resized and normalised exactly as the lane
model's are. ``scores(frame)`` returns the class's probability per map cell.
"""

from pathlib import Path

import numpy as np

from lanecam.engines.onnxruntime_engine import OnnxRuntimeEngine, shape_mismatch
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.heatmap.spec import HeatmapSpec
from lanecam.pipeline.preprocess import Preprocessor

__all__ = ["HeatmapModel", "channel_softmax"]


def channel_softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last (class) axis of every cell, never over the map's positions."""
    z = logits - logits.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


class HeatmapModel:
    """A convolutionalized classifier's score map for BGR frames.

    Args:
        path: the ``.onnx`` file written by ``lanecam convolutionalize --onnx``.
        frame_width, frame_height: size of the frames it will see first (another size later
            makes a new preprocessor for it).
        threads: ONNX Runtime intra-op threads (1 by default: it shares the drawing thread's
            core budget with the lane model).

    Construction checks the file, its ``HeatmapSpec`` and its output map (``InputError``
    prefixed with ``--heatmap``); ``open()`` creates the session in the calling thread (or the
    first ``scores()`` does). ``scores(frame)`` returns a float32 (rows, cols) array it reuses
    on the next call. Not thread-safe: ``open()`` and ``scores()`` belong to one thread.
    """

    def __init__(self, path, frame_width: int, frame_height: int, threads: int = 1):
        self.path = Path(path)
        if self.path.is_file() and self.path.suffix.lower() != ".onnx":
            raise InputError(f"--heatmap {self.path}: expected an .onnx heatmap model")
        try:
            self.engine = OnnxRuntimeEngine(self.path, threads=int(threads), spec_type=HeatmapSpec,
                                            providers=["CPUExecutionProvider"])
        except InputError as exc:
            raise InputError(f"--heatmap {exc}") from None
        self.spec: HeatmapSpec = self.engine.spec
        self._out_name = self._check_output()
        self._pre = Preprocessor(self.spec, int(frame_width), int(frame_height))
        self._scores = np.empty(self.spec.map_size(), np.float32)

    def _check_output(self) -> str:
        """The score map's output name; refuses a map that does not fit the window and stride."""
        s = self.spec
        name, shape = next(iter(self.engine.declared_outputs.items()))
        rows, cols = s.map_size()
        if len(shape) != 4 or shape_mismatch(shape[1:3], [rows, cols]):
            raise InputError(f"--heatmap {self.path}: output {name} {list(shape)}: expected "
                             f"(1, {rows}, {cols}, classes) for its window and stride")
        classes = shape[3]
        if isinstance(classes, int) and s.class_index >= classes:
            raise InputError(f"--heatmap {self.path}: class_index {s.class_index} but the "
                             f"model has {classes} classes")
        return name

    @property
    def last_latency_ms(self) -> float:
        """Model-only latency of the last ``scores()`` call (the engine's)."""
        return self.engine.last_latency_ms

    def open(self) -> "HeatmapModel":
        """Create the ONNX Runtime session (CPU); idempotent."""
        self.engine.open()
        return self

    def close(self) -> None:
        """Drop the session; idempotent."""
        self.engine.close()

    def scores(self, frame: np.ndarray) -> np.ndarray:
        """Probability of ``spec.class_index`` per map cell for one BGR uint8 frame."""
        if not self.engine.is_open:
            self.open()
        h, w = frame.shape[:2]
        if (w, h) != (self._pre.frame_width, self._pre.frame_height):
            self._pre = Preprocessor(self.spec, w, h)
        out = self.engine.infer(self._pre(frame))[self._out_name]
        s = self.spec
        cells = out[0] if s.probabilities else channel_softmax(out[0].astype(np.float32))
        np.copyto(self._scores, cells[..., s.class_index])
        return self._scores
