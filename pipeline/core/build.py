"""Assemble the lane pipeline: source -> preprocess -> infer -> postprocess -> sinks.

Ring policies follow the source: a file is processed losslessly (``BLOCK``
everywhere, back-pressure reaches the decoder); a live source never waits (``DROP_OLDEST``
rings of one frame, up to and including the recording sinks, so every stage takes the newest
frame and latency cannot pile up: a live recording keeps up or drops, it never lags). Display
sinks (``Sink.is_display``: window, preview) run in their own thread behind a ``LATEST`` ring:
they show the newest frame and never slow the rest.
"""

from typing import Optional, Sequence

from lanecam.pipeline.core.frames import FramePool
from lanecam.pipeline.core.lanestages import InferStage, PostprocessStage, PreprocessStage, SinkStage
from lanecam.pipeline.core.ring import Policy, Ring
from lanecam.pipeline.core.runner import Runner, chain
from lanecam.pipeline.core.stage import SourceStage
from lanecam.pipeline.metrics import Metrics

__all__ = ["build_lane_pipeline", "ring_links"]


def ring_links(live: bool, file_capacity: int = 2):
    """The ring policy table: ``(links, record_link)`` for a live source or a file.

    ``links`` are the ``(capacity, Policy)`` of source->preprocess, preprocess->infer and
    infer->postprocess; ``record_link`` is postprocess->sink (the recording sinks).
    """
    if live:
        return [(1, Policy.DROP_OLDEST)] * 3, (1, Policy.DROP_OLDEST)
    return [(file_capacity, Policy.BLOCK)] * 3, (2 * file_capacity, Policy.BLOCK)


def build_lane_pipeline(source, detector, sinks: Sequence, *, draw: bool = True,
                        live: Optional[bool] = None, metrics: Optional[Metrics] = None,
                        file_capacity: int = 2) -> Runner:
    """A ``Runner`` for the lane pipeline (not started).

    Args:
        source: an opened ``Source`` (closed by the source stage at the end).
        detector: a ``LaneDetector`` (its engine is opened and closed in the infer thread).
        sinks: opened sinks; display sinks (``is_display``) go behind the LATEST ring, the
            others (files, JSON, null) are written in order by the sink stage.
        draw: draw the overlay on the frames (False when no sink shows or saves pixels).
        live: ring policies for a live source; default ``source.is_live``.
        metrics: where to record (a new one when None).
        file_capacity: ring capacity in file mode.
    """
    live = bool(source.is_live) if live is None else live
    display = [s for s in sinks if s.is_display]
    record = [s for s in sinks if not s.is_display]
    stages = [SourceStage(source), PreprocessStage(detector), InferStage(detector),
              PostprocessStage(detector, draw=draw, clean_for=sinks)]
    links, record_link = ring_links(live, file_capacity)
    # --crop-top auto switches crops a fixed number of frames after deciding (AutoCrop.LAG),
    # so that the switch lands on the same frame on every run: more frames than that between
    # preprocess and postprocess (two rings, plus one in each of the three stages) would make
    # a frame's crop depend on thread timing again
    if getattr(detector, "auto_crop", False):
        from lanecam.pipeline.lanes.horizon import AutoCrop

        if links[1][0] + links[2][0] + 3 >= AutoCrop.LAG:
            raise ValueError(f"file_capacity {file_capacity}: too many frames in flight for "
                             f"--crop-top auto (AutoCrop.LAG {AutoCrop.LAG})")
    capacity = sum(c for c, _ in links) + (record_link[0] if record else 0) + (1 if display else 0)
    pool = FramePool(capacity + len(stages) + 2 + 1, source.height, source.width,
                     tensor_shape=detector.spec.input_shape, tensor_dtype=detector.spec.dtype)
    rings = chain(stages, links, pool, names=["source->preprocess", "preprocess->infer",
                                              "infer->postprocess"])
    post = stages[-1]
    if record:
        sink_stage = SinkStage(record, "sink")
        ring = Ring("postprocess->sink", record_link[0], record_link[1],
                    on_drop=lambda item: pool.release(item[0]))
        post.outputs.append(ring)
        sink_stage.input = ring
        stages.append(sink_stage)
        rings.append(ring)
    if display:
        show = SinkStage(display, "display", counts_frames=not record)
        ring = Ring("postprocess->display", 1, Policy.LATEST,
                    on_drop=lambda item: pool.release(item[0]))
        post.outputs.append(ring)
        show.input = ring
        stages.append(show)
        rings.append(ring)
    if not record and not display:
        post.counts_frames = True
    return Runner(stages, rings, pool, metrics=metrics)
