"""The lanecam stages: preprocess, infer, postprocess + overlay, sinks.

Each runs one step of a ``LaneDetector`` (``lanecam.pipeline.detector``) on the ``FrameSlot``
of its frame: the preprocess stage fills ``slot.tensor`` from ``slot.frame``, the infer stage
copies the engine outputs into ``slot.outputs`` (the engine reuses its own buffers while the
next frame is inferred), the postprocess stage sets ``slot.result`` and draws on
``slot.frame`` in place, the sink stage writes the frame and its result.
"""

from typing import Optional, Sequence

from lanecam.pipeline.core.stage import Stage

__all__ = ["PreprocessStage", "InferStage", "PostprocessStage", "SinkStage"]


class PreprocessStage(Stage):
    """Frame -> model input tensor of the same slot (``LaneDetector.preprocess``).

    With a calibration that undistorts, the undistorted frame replaces the slot's frame, so the
    lanes (found in undistorted pixels) are drawn on the image they belong to.
    """

    def __init__(self, detector, name: str = "preprocess"):
        super().__init__(name)
        self.detector = detector

    def process(self, slot, meta) -> bool:
        s = self.pool.slots[slot]
        # the crop travels with the frame: under --crop-top auto the postprocess stage may
        # change it while this frame is being inferred
        meta.crop_top = self.detector.crop_top_for(s.frame.shape[1], s.frame.shape[0])
        self.detector.preprocess(s.frame, out=s.tensor, undistorted=s.frame,
                                 crop_top=meta.crop_top)
        return True


class InferStage(Stage):
    """Runs the model (``LaneDetector.infer``); the engine is opened and closed in this thread."""

    def __init__(self, detector, name: str = "infer"):
        super().__init__(name)
        self.detector = detector
        self.model_stats = None

    def setup(self) -> None:
        self.detector.open()
        self.metrics.engine = self.detector.describe()
        self.model_stats = self.metrics.stage("model")

    def process(self, slot, meta) -> bool:
        s = self.pool.slots[slot]
        s.keep_outputs(self.detector.infer(s.tensor))
        self.model_stats.record(self.detector.last_latency_ms / 1e3)
        return True

    def teardown(self) -> None:
        self.detector.close_engine()


class PostprocessStage(Stage):
    """Lanes and geometry (``LaneDetector.postprocess``), then the overlay drawn in place.

    Args:
        detector: the ``LaneDetector``.
        draw: draw the overlay (False: JSON only, benchmarks without drawing).
        clean_for: the sinks that may want the frame without the overlay
            (``Sink.wants_clean_frame``); the frame is copied before drawing for them only
            when one of them says it will read this frame's pixels.
    """

    def __init__(self, detector, draw: bool = True, name: str = "postprocess",
                 clean_for: Sequence = ()):
        super().__init__(name)
        self.detector = detector
        self.draw = draw
        self.clean_for = [s for s in clean_for if s.wants_clean_frame]

    def process(self, slot, meta) -> bool:
        s = self.pool.slots[slot]
        frame = s.frame
        result = self.detector.postprocess(s.outputs, frame.shape[1], frame.shape[0],
                                           meta.frame_id, frame=frame, crop_top=meta.crop_top)
        ts = meta.stage_ts
        result.timings_ms = {k: round((ts[k] - meta.capture_ts) * 1e3, 2) for k in ts}
        s.result = result
        s.has_clean = False
        if self.draw:
            if any(sink.needs_clean_frame(meta) for sink in self.clean_for):
                s.keep_clean()
            self.detector.draw(frame, result, self.metrics.current, inplace=True,
                               undistort=False)
        return True

    def teardown(self) -> None:
        self.detector.close_overlays()


class SinkStage(Stage):
    """Writes each frame to its sinks, in order; the sinks are closed in this thread at the end.

    The sinks are opened by the caller before the run (bad output paths are reported before
    any thread starts). ``close()`` runs in ``teardown``: after the end of the input, a
    graceful stop (Ctrl-C, SIGTERM) or a failure upstream (a camera unplugged), the outputs
    are finished (the video's index written) and renamed into place with the frames so far.
    """

    def __init__(self, sinks: Sequence, name: str = "sink", counts_frames: bool = True):
        super().__init__(name)
        self.sinks = list(sinks)
        self.counts_frames = counts_frames

    def process(self, slot, meta) -> bool:
        s = self.pool.slots[slot]
        for sink in self.sinks:
            frame = s.clean if s.has_clean and sink.wants_clean_frame else s.frame
            sink.write(frame, s.result, meta)
        return True

    def stop_requested(self) -> bool:
        """True when one of the sinks asks to end the run (a window closed, ``q`` pressed)."""
        return any(sink.stop_requested for sink in self.sinks)

    def poll_main(self) -> None:
        """Lets sinks that need the main thread (the window: HighGUI) do their part there."""
        for sink in self.sinks:
            poll = getattr(sink, "poll_main", None)
            if poll is not None:
                poll()

    def teardown(self) -> None:
        error: Optional[BaseException] = None
        for sink in self.sinks:
            try:
                sink.close()
            except BaseException as exc:  # close every sink, report the first failure
                error = error or exc
        if error is not None:
            raise error
