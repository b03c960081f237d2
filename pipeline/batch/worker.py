"""One batch worker: holds one model and runs the ``lanecam run`` pipeline on video after video.

``VideoWorker`` knows nothing of Ray (``cluster`` makes it a Ray actor, tests use it as it
is). It loads the model once; for each video it makes a fresh ``LaneDetector`` around that
engine (temporal smoothing and lane-departure state start anew with every video, whichever
worker had which video before), builds the pipeline with ``build_lane_pipeline`` exactly as
``lanecam run`` does, and writes the outputs in a staging folder, renamed into place
only when the whole video succeeded (``layout``). ``process`` never raises for a bad video:
it returns the video's summary with its status and a one-line reason.
"""

import os
import socket
import time
from dataclasses import dataclass, replace
from typing import Dict, Optional

from lanecam.engines.base import Engine
from lanecam.pipeline.batch.layout import Layout
from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.sinks.base import Sink

__all__ = ["VideoWorker", "WorkerOptions", "VideoTally"]

# engines whose open state belongs to the thread that opened it (a CUDA context): these are
# opened and closed by each video's inference thread instead of staying open across videos
_THREAD_BOUND_ENGINES = ("tensorrt",)


@dataclass(frozen=True)
class WorkerOptions:
    """What every worker of a job is given (picklable: it travels to the cluster's nodes).

    Attributes:
        out: the output folder (shared by every node on a cluster).
        detector: the job's ``DetectorConfig`` (model, engine, spec, calibration, threads...).
        model_id: the model identity written into every Parquet file.
        videos, jsonl, mcap: also write annotated videos / native JSON lines / MCAP files.
        topic: the image topic of the MCAP and bag inputs (None: their only one).
        cpu_threads: OpenCV's thread count in the worker (the CPUs a task asked for).
    """

    out: str
    detector: object
    model_id: str
    videos: bool = False
    jsonl: bool = False
    cpu_threads: int = 1
    mcap: bool = False
    topic: Optional[str] = None


class VideoTally(Sink):
    """Counts what the per-video summary reports: frames with an ego lane, lane-departure
    events (a change into "left" or "right"; None without a calibration), the first and last
    timestamps (a recording's start at its recorded time, not 0)."""

    name = "tally"

    def __init__(self):
        super().__init__()
        self.ego_frames = 0
        self.departure_events: Optional[int] = None
        self.first_ts: Optional[float] = None
        self.last_ts = 0.0
        self._state = "none"

    def _write(self, frame, result, meta) -> None:
        if result.ego_polygon is not None:
            self.ego_frames += 1
        if result.geometry is not None:
            state = result.geometry.get("departure") or "none"
            if self.departure_events is None:
                self.departure_events = 0
            if state != "none" and state != self._state:
                self.departure_events += 1
            self._state = state
        self.last_ts = float(getattr(meta, "source_ts", 0.0) or 0.0)
        if self.first_ts is None:
            # a video's time starts at 0 whichever frame decodes first; a recording's at the
            # recorded time of its first frame
            recorded = getattr(meta, "stamp_ns", None) is not None
            self.first_ts = self.last_ts if recorded else 0.0


class _SharedEngine(Engine):
    """The worker's engine seen by one video's pipeline: opening it the first time opens the
    real engine, closing it does nothing (the worker closes the real one when it ends), so
    the model is loaded once per worker and not once per video."""

    def __init__(self, inner: Engine):
        self.inner = inner
        self.name, self.spec = inner.name, inner.spec
        self.model_path, self.precision = inner.model_path, inner.precision

    def open(self) -> "Engine":
        self.inner.open()
        self.is_open, self.providers = True, self.inner.providers
        return self

    def close(self) -> None:
        self.is_open = False

    def infer(self, tensor):
        return self.inner.infer(tensor)

    @property
    def last_latency_ms(self) -> float:
        return self.inner.last_latency_ms

    def describe(self) -> str:
        return self.inner.describe()


def _notify(board, method: str, *args) -> None:
    """Tell the progress board (a Ray actor handle, a local object, or None)."""
    if board is None:
        return
    call = getattr(board, method)
    if hasattr(call, "remote"):
        call.remote(*args)  # an actor handle: fire and forget, progress must never block
    else:
        call(*args)


def _failure(exc: BaseException) -> Dict[str, str]:
    kind = "input" if isinstance(exc, InputError) else "runtime"
    text = str(exc) if isinstance(exc, LanecamError) else f"{type(exc).__name__}: {exc}"
    return {"error_kind": kind, "error": " ".join(text.split())}


class VideoWorker:
    """Loads the model once, then processes videos one at a time with ``process``.

    Args:
        options: the job's ``WorkerOptions``.

    A model that cannot be loaded does not raise here (Ray would retry the worker forever):
    every ``process`` call then returns a failure with ``setup_failed`` set.
    """

    def __init__(self, options: WorkerOptions):
        self.options = options
        self.board = None
        self.layout = Layout(options.out)
        self.where = f"{socket.gethostname()}:{os.getpid()}"
        self.setup_error: Optional[Dict[str, str]] = None
        self.base = self.engine = None
        try:
            from lanecam.pipeline.detector import LaneDetector
            from lanecam.pipeline.sources.capture import import_cv2

            # a task gets the CPUs it asked for: OpenCV's pool would otherwise take them all
            import_cv2("lanecam batch").setNumThreads(max(1, int(options.cpu_threads)))
            self.base = LaneDetector(config=options.detector)
            inner = self.base.engine
            self.engine = inner if inner.name in _THREAD_BOUND_ENGINES else _SharedEngine(inner)
        except Exception as exc:  # noqa: BLE001 - reported with every video instead
            self.setup_error = _failure(exc)

    def close(self) -> None:
        """Free the model."""
        if self.base is not None:
            self.base.close()
            self.base.engine.close()  # opened by the videos' detectors, not through base

    def process(self, job, board=None) -> dict:
        """Process one ``VideoJob``; returns its summary (``status`` "done", "damaged" (the
        outputs hold every decodable frame, the input is damaged) or "failed").

        ``board`` hears of the progress (``started(video_id, pid)``, ``progress(video_id,
        frames)``): a ``ProgressBoard``, its Ray actor handle, or None. It is given with each
        video rather than to the constructor, because Ray cannot promise to restart an actor
        whose constructor took an actor handle.
        """
        t0 = time.monotonic()
        self.board = board
        summary = {"video_id": job.video_id, "path": job.path, "status": "failed",
                   "error": "", "error_kind": "", "frames": 0, "worker": self.where,
                   "outputs": {}}
        if self.setup_error is not None:
            return {**summary, **self.setup_error, "setup_failed": True}
        _notify(self.board, "started", job.video_id, os.getpid())
        # an earlier attempt killed half way (OOM, a lost node) left files in .staging
        self.layout.remove_leftovers(job.video_id)
        staged = {kind: self.layout.staging(kind, job.video_id)
                  for kind, wanted in (("lanes", True), ("videos", self.options.videos),
                                       ("jsonl", self.options.jsonl),
                                       ("mcap", self.options.mcap)) if wanted}
        try:
            summary.update(self._run(job, staged))
            if summary["status"] != "failed":
                summary["outputs"] = self.layout.commit(staged, job.video_id)
        except Exception as exc:  # noqa: BLE001 - one video's failure is not the job's
            summary.update(_failure(exc))
        finally:
            if not summary["outputs"]:
                self.layout.remove_leftovers(job.video_id)
        summary["elapsed_s"] = round(time.monotonic() - t0, 3)
        return summary

    # ---- one video -------------------------------------------------------------------------
    def _open(self, job, staged):
        """Source, per-video detector and sinks, opened (bad input raises here)."""
        from lanecam.pipeline import sinks as S
        from lanecam.pipeline.batch.parquet import ParquetSink
        from lanecam.pipeline.detector import LaneDetector
        from lanecam.pipeline.sources import open_source

        topic = self.options.topic if job.kind == "recording" else None
        src = open_source(job.source, topic=topic)
        opened = []
        try:
            src.open()
            w, h = src.width, src.height
            if w <= 0 or h <= 0:
                raise InputError(f"{job.path}: the source reports no frame size")
            fps = src.fps if src.fps and src.fps > 0 else 25.0
            detector = LaneDetector(engine=self.engine, spec=self.base.spec,
                                    calibration=self.base.profile,
                                    config=replace(self.base.config, fps=fps))
            detector.prepare(w, h)
            sinks = [ParquetSink(staged["lanes"], job.video_id, job.path,
                                 {"lanecam.video_id": job.video_id, "lanecam.path": job.path,
                                  "lanecam.model": self.options.model_id,
                                  # the rows above the road cut off: the model's, --crop-top
                                  # or "auto" (set per video from its ego lines)
                                  "lanecam.crop_top": "auto" if detector.auto_crop
                                  else str(detector.spec.crop_top)}),
                     VideoTally()]
            if "videos" in staged:
                sinks.append(S.VideoFileSink(str(staged["videos"])))
            if "jsonl" in staged:
                sinks.append(S.JsonLinesSink(str(staged["jsonl"])))
            if "mcap" in staged:
                # recorded JPEGs as they are, unless undistorted frames carry the lanes
                profile = self.base.profile
                sinks.append(S.McapSink(str(staged["mcap"]), passthrough=not (
                    profile is not None and profile.has_distortion)))
            for sink in sinks:
                opened.append(sink)
                sink.open(w, h, fps)
        except BaseException:
            for sink in opened:
                sink.close(keep=False)
            src.close()
            raise
        return src, detector, sinks, fps

    def _run(self, job, staged) -> dict:
        from lanecam.pipeline.sources.damage import skip_report
        from lanecam.pipeline.core.build import build_lane_pipeline
        from lanecam.pipeline.metrics import Metrics

        src, detector, sinks, fps = self._open(job, staged)
        parquet, tally = sinks[0], sinks[1]
        metrics = Metrics()
        runner = build_lane_pipeline(src, detector, sinks, draw=self.options.videos,
                                     metrics=metrics)

        def tick(m):
            m.tick()
            _notify(self.board, "progress", job.video_id, m.frames_done)

        runner.run(on_tick=tick, tick_interval=0.5)
        _notify(self.board, "progress", job.video_id, metrics.frames_done)
        frames = metrics.frames_done
        if parquet.rows != frames:  # the promise of the dataset: one row per decoded frame
            raise LanecamError(f"{job.path}: {parquet.rows} rows for {frames} frames")
        elapsed = metrics.elapsed()
        out = {"status": "done", "frames": frames, "width": src.width, "height": src.height,
               "video_fps": round(fps, 3),
               "duration_s": round(tally.last_ts - (tally.first_ts or 0.0) + 1.0 / fps, 3)
               if frames else 0.0,
               "processing_fps": round(frames / elapsed, 2) if elapsed > 0 else 0.0,
               "ego_share": round(tally.ego_frames / frames, 4) if frames else 0.0,
               "departure_events": tally.departure_events, "engine": metrics.engine}
        report = skip_report(src)
        if getattr(src, "ended_early", None):
            out.update(status="damaged", error_kind="input",
                       error=f"{src.ended_early}; the outputs hold the {frames} frames before it")
        elif report:
            out.update(status="damaged", error_kind="input",
                       error=f"{job.path}: skipped {report['skipped']} unreadable "
                             f"{report['unit']} ({report['text']}); the outputs hold the "
                             f"other {frames}")
        return out
