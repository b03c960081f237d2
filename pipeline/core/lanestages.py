"""The lanecam stages: preprocess, infer, postprocess + overlay, sinks.

Each works on the buffers of its frame slot: ``pool.frames[slot]`` (the BGR frame, drawn on
in place), ``pool.tensors[slot]`` (the model input), and ``pool.extras[slot]`` entries
``"outputs"`` (copies of the engine outputs, allocated once per slot on first use, because the
engine reuses its own buffers while the next frame is inferred) and ``"result"`` (the
``LaneResult``).
"""

import time
from typing import Optional, Sequence

import numpy as np

from lanecam.pipeline.core.stage import Stage

__all__ = ["PreprocessStage", "InferStage", "PostprocessStage", "SinkStage"]


class PreprocessStage(Stage):
    """Frame -> model input tensor of the same slot (``lanecam.pipeline.preprocess.Preprocessor``).

    With undistortion maps, the undistorted frame replaces the slot's frame, so the lanes
    (found in undistorted pixels) are drawn on the image they belong to.
    """

    def __init__(self, preprocessor, name: str = "preprocess"):
        super().__init__(name)
        self.pre = preprocessor

    def process(self, slot, meta) -> bool:
        self.pre(self.pool.frames[slot], out=self.pool.tensors[slot])
        if self.pre.maps is not None:
            np.copyto(self.pool.frames[slot], self.pre.undistorted_frame)
        return True


class InferStage(Stage):
    """Runs the engine; the engine is opened and closed in this stage's thread."""

    def __init__(self, engine, name: str = "infer"):
        super().__init__(name)
        self.engine = engine
        self.model_stats = None

    def setup(self) -> None:
        self.engine.open()
        self.metrics.engine = self.engine.describe()
        self.model_stats = self.metrics.stage("model")

    def process(self, slot, meta) -> bool:
        outputs = self.engine.infer(self.pool.tensors[slot])
        self.model_stats.record(self.engine.last_latency_ms / 1e3)
        extras = self.pool.extras[slot]
        kept = extras.get("outputs")
        if kept is None:  # first use of this slot: allocate its copies once
            kept = extras["outputs"] = {k: np.empty_like(v) for k, v in outputs.items()}
        for k, v in outputs.items():
            np.copyto(kept[k], v)
        return True

    def teardown(self) -> None:
        self.engine.close()


class PostprocessStage(Stage):
    """Lanes from the outputs (``LaneExtractor``), geometry when calibrated, overlay drawn in place.

    Args:
        extractor: ``lanecam.pipeline.lanes.LaneExtractor`` for the frame size.
        overlay: ``lanecam.pipeline.overlay.Overlay`` or None (no drawing: JSON only, benchmarks).
        geometry: ``lanecam.pipeline.geometry.GeometryEstimator`` or None.
    """

    def __init__(self, extractor, overlay=None, geometry=None, name: str = "postprocess"):
        super().__init__(name)
        self.extractor = extractor
        self.overlay = overlay
        self.geometry = geometry

    def process(self, slot, meta) -> bool:
        result = self.extractor(self.pool.extras[slot]["outputs"], meta.frame_id)
        if self.geometry is not None:
            self.geometry.update(result)
        ts = meta.stage_ts
        result.timings_ms = {k: round((ts[k] - meta.capture_ts) * 1e3, 2) for k in ts}
        self.pool.extras[slot]["result"] = result
        if self.overlay is not None:
            self.overlay.draw(self.pool.frames[slot], result, self.metrics.current)
        return True


class SinkStage(Stage):
    """Writes each frame to its sinks, in order; the sinks are closed in this thread at the end.

    The sinks are opened by the caller before the run (bad output paths are reported before
    any thread starts). ``close()`` runs in ``teardown``, so the output is complete after an
    error or Ctrl-C as well.
    """

    def __init__(self, sinks: Sequence, name: str = "sink", counts_frames: bool = True):
        super().__init__(name)
        self.sinks = list(sinks)
        self.counts_frames = counts_frames

    def process(self, slot, meta) -> bool:
        frame = self.pool.frames[slot]
        result = self.pool.extras[slot].get("result")
        for sink in self.sinks:
            sink.write(frame, result, meta)
        return True

    def teardown(self) -> None:
        error: Optional[BaseException] = None
        for sink in self.sinks:
            try:
                sink.close()
            except BaseException as exc:  # close every sink, report the first failure
                error = error or exc
        if error is not None:
            raise error
