"""HeatmapModel: a dense score-map ONNX model run on frames with ONNX Runtime (CPU).

Construction checks the file and its ``HeatmapSpec`` (no session yet); ``open()`` creates the
session in the calling thread; ``scores(frame)`` returns the class's probability per map cell.
"""

import time
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.heatmap.spec import HeatmapSpec
from lanecam.pipeline.lazy import require

__all__ = ["HeatmapModel", "channel_softmax"]


def channel_softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last (class) axis of every cell, never over the map's positions."""
    z = logits - logits.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def _read_spec(path: Path) -> HeatmapSpec:
    # ONNX Runtime (a base dependency) reads the metadata, so --heatmap needs no extra; the
    # throwaway session skips graph optimisation, it only has to parse the file
    ort = require("onnxruntime", "test", "reading a heatmap model's metadata")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 4
    try:
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - any load failure means "not an ONNX model"
        raise InputError(f"{path}: not an ONNX model ({str(exc).splitlines()[0][:120]})") from None
    props = dict(sess.get_modelmeta().custom_metadata_map)
    del sess
    spec = HeatmapSpec.from_metadata_props(props, f"{path} metadata")
    if spec is None:
        raise InputError(f"{path}: no heatmap description in its metadata; make it with "
                         "`lanecam convolutionalize CLASSIFIER -o OUT.keras --input-size HxW "
                         "--onnx OUT.onnx`")
    return spec


class HeatmapModel:
    """A convolutionalized classifier's score map for BGR frames of one size.

    Args:
        path: the ``.onnx`` file written by ``lanecam convolutionalize --onnx``.
        frame_width, frame_height: size of the frames it will see.
        threads: ONNX Runtime intra-op threads (1 by default: it shares the drawing thread's
            core budget with the lane model).

    ``scores(frame)`` returns a float32 (rows, cols) array it reuses on the next call.
    Not thread-safe; ``open()`` and ``scores()`` belong to one thread.
    """

    def __init__(self, path, frame_width: int, frame_height: int, threads: int = 1):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"--heatmap {self.path}: model file not found")
        if self.path.suffix.lower() != ".onnx":
            raise InputError(f"--heatmap {self.path}: expected an .onnx heatmap model")
        self.spec = _read_spec(self.path)
        self.frame_width, self.frame_height = int(frame_width), int(frame_height)
        self.top, self.bottom = self.spec.crop_rows(self.frame_height)
        self.threads = int(threads)
        self.last_latency_ms = 0.0
        self._session = None
        s = self.spec
        self._resized = np.empty((s.input_height, s.input_width, 3), np.uint8)
        self._colored = np.empty_like(self._resized) if s.color == "rgb" else self._resized
        self._input = np.empty((1, s.input_height, s.input_width, 3), np.float32)
        self._scores = np.empty(s.map_size(), np.float32)

    def open(self) -> "HeatmapModel":
        """Create the ONNX Runtime session (CPU) and check the model's input and output."""
        if self._session is not None:
            return self
        ort = require("onnxruntime", "test", "the heatmap overlay")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sess = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        s = self.spec
        inp, out = sess.get_inputs()[0], sess.get_outputs()[0]
        want_in = [1, s.input_height, s.input_width, 3]
        if inp.name != s.input_name or _mismatch(inp.shape, want_in):
            raise InputError(f"--heatmap {self.path}: input {inp.name} {inp.shape} does not "
                             f"match its description ({s.input_name} {want_in})")
        rows, cols = s.map_size()
        if len(out.shape) != 4 or _mismatch(out.shape[1:3], [rows, cols]):
            raise InputError(f"--heatmap {self.path}: output {out.name} {out.shape}: expected "
                             f"(1, {rows}, {cols}, classes) for its window and stride")
        classes = out.shape[3]
        if isinstance(classes, int) and s.class_index >= classes:
            raise InputError(f"--heatmap {self.path}: class_index {s.class_index} but the "
                             f"model has {classes} classes")
        self._session, self._out_name = sess, out.name
        return self

    def close(self) -> None:
        """Drop the session; idempotent."""
        self._session = None

    def scores(self, frame: np.ndarray) -> np.ndarray:
        """Probability of ``spec.class_index`` per map cell for one BGR uint8 frame."""
        if self._session is None:
            self.open()
        s = self.spec
        roi = frame[self.top:self.bottom]
        cv2.resize(roi, (s.input_width, s.input_height), dst=self._resized,
                   interpolation=cv2.INTER_AREA)
        if s.color == "rgb":
            cv2.cvtColor(self._resized, cv2.COLOR_BGR2RGB, dst=self._colored)
        np.multiply(self._colored, np.float32(s.scale), out=self._input[0], casting="unsafe")
        t0 = time.perf_counter()
        (out,) = self._session.run([self._out_name], {s.input_name: self._input})
        self.last_latency_ms = (time.perf_counter() - t0) * 1e3
        cells = out[0] if s.probabilities else channel_softmax(out[0].astype(np.float32))
        np.copyto(self._scores, cells[..., s.class_index])
        return self._scores


def _mismatch(model_shape, want) -> bool:
    if len(model_shape) != len(want):
        return True
    return any(isinstance(d, int) and d > 0 and d != w for d, w in zip(model_shape, want))
