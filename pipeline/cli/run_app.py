"""What ``lanecam run`` does: open everything (bad input fails here, before any thread),
build the pipeline, run it with a progress bar or PERF lines, report."""

import signal
import sys
import time
from typing import List

from lanecam.pipeline import signals
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.damage import skip_report
from lanecam.pipeline.metrics import Metrics

__all__ = ["RunApp", "PERF_INTERVAL_S"]

PERF_INTERVAL_S = 5.0


def _say(msg: str) -> None:
    print(f"lanecam run: {msg}", file=sys.stderr, flush=True)


def _say_over_bar(msg: str) -> None:
    """``_say`` for lines written while the progress bar may be on screen, from any thread:
    tqdm clears the bar, writes the line and redraws the bar under it, holding the lock its
    bars draw with (a plain print from a worker thread lands in the middle of the bar)."""
    from tqdm import tqdm

    tqdm.write(f"lanecam run: {msg}", file=sys.stderr)
    sys.stderr.flush()


class RunApp:
    """One ``lanecam run`` invocation.

    Args:
        config: the run's ``RunConfig``.
        h_samples: TuSimple rows for ``--lanes-format tusimple``.
        config_file: the ``--config`` file it was read from, if any (an input: no output may
            overwrite it).
    """

    def __init__(self, config, h_samples, config_file=None):
        self.config = config
        self.config_file = config_file
        self.h_samples = h_samples
        self.quiet = bool(config.quiet)
        self.source = None
        self.sinks: List = []
        self.metrics = Metrics()
        self._bar = None
        self._next_perf = 0.0

    # ---- building --------------------------------------------------------------------------
    def _open_source(self):
        from lanecam.pipeline.sources import open_source

        src = open_source(self.config.source, **self.config.source_options())
        src.open()
        if src.width <= 0 or src.height <= 0:
            raise InputError(f"{self.config.source}: the source reports no frame size")
        return src

    def _make_sinks(self, fps: float, detector=None) -> List:
        from lanecam.pipeline import sinks as S

        o = self.config
        made = []
        # recorded JPEGs go into --mcap as they are, unless the frames are undistorted (the
        # annotations are in undistorted pixels then)
        profile = getattr(detector, "profile", None)
        passthrough = not (profile is not None and profile.has_distortion)
        live = bool(self.source is not None and self.source.is_live)
        if o.output:
            made.append(S.VideoFileSink(o.output))
        if o.lanes:
            made.append(S.JsonLinesSink(o.lanes, fmt=o.lanes_format,
                                        h_samples=self.h_samples))
        if o.images:
            made.append(S.ImageFolderSink(o.images))
        if o.display:
            made.append(S.WindowSink())
        if o.preview:
            made.append(S.MjpegPreviewSink(str(o.preview)))
        if o.mcap:
            made.append(S.McapSink(o.mcap, passthrough=passthrough, wall_clock=live))
        if o.foxglove:
            made.append(S.FoxgloveLiveSink(str(o.foxglove), passthrough=passthrough))
        if not made:
            made.append(S.NullSink())
        return made

    def _check_paths(self) -> None:
        """Outputs never overwrite an input or each other, and their folders are writable:
        checked before anything is opened or written."""
        from lanecam.pipeline.outputs import check_outputs
        from lanecam.pipeline.sources.registry import local_path

        from lanecam.engines.loader import model_files

        o = self.config
        source = local_path(o.source)
        # every file the run reads is an input: the model's spec beside it and the config too
        check_outputs({"SOURCE": source, **model_files(o.model, o.engine), "--spec": o.spec,
                       "--calibration": o.calibration, "--heatmap": o.heatmap,
                       "--config": self.config_file},
                      {"-o": o.output, "--lanes": o.lanes, "--stats": o.stats,
                       "--mcap": o.mcap},
                      {"--images": o.images})

    def build(self):
        """Open the model, the source, the sinks; returns the (unstarted) runner."""
        from dataclasses import replace

        from lanecam.pipeline.core.build import build_lane_pipeline

        from lanecam.pipeline.detector import LaneDetector

        o = self.config
        self._check_paths()
        detector = LaneDetector(config=o.detector_config())
        # once per kind: the frame's warnings go to the JSON lines and the HUD every time.
        # Called on the postprocess thread while the main thread draws the bar.
        detector.on_warning = lambda code, text: _say_over_bar(f"warning: {text} [{code}]")
        detector.on_crop = lambda w, h, old, new: _say_over_bar(
            f"crop-top auto: the ego lines of the {w}x{h} frames meet higher up than the "
            f"model's camera's; crop {old:.2f} -> {new:.2f}")
        self.source = src = self._open_source()
        w, h = src.width, src.height
        fps = src.fps if src.fps and src.fps > 0 else 25.0
        detector.config = replace(detector.config, fps=fps)
        draws = o.draws
        if o.heatmap and not draws:
            raise InputError("--heatmap draws on the frames: add -o, --images, --display or "
                             "--preview")
        detector.prepare(w, h)
        for sink in self._make_sinks(fps, detector):
            sink.open(w, h, fps)
            self.sinks.append(sink)
        if not self.quiet:
            kind = "live" if src.is_live else "file"
            count = f", {src.frame_count} frames" if src.frame_count else ""
            _say(f"{src.uri}: {w}x{h} @ {fps:g} fps ({kind}{count}); model "
                 f"{detector.spec.name} on {detector.engine.name}")
            if o.heatmap:
                hm = detector.for_size(w, h).heatmap.spec
                rows, cols = hm.map_size()
                _say(f"heatmap {o.heatmap}: {rows}x{cols} cells, window {hm.window[0]}x"
                     f"{hm.window[1]}, stride {hm.stride[0]}x{hm.stride[1]} at "
                     f"{hm.input_width}x{hm.input_height}")
            for sink in self.sinks:
                _say(f"-> {sink.describe()}")
        return build_lane_pipeline(src, detector, self.sinks, draw=draws, metrics=self.metrics)

    def _cleanup(self) -> None:
        """Close what was opened when the pipeline never started."""
        for sink in self.sinks:
            try:
                sink.close(keep=False)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
        if self.source is not None:
            self.source.close()

    # ---- running ---------------------------------------------------------------------------
    def _tick(self, metrics: Metrics) -> None:
        signals.arm()  # the runner is running: a stop signal now means "finish the outputs"
        if self._bar is not None:
            self._bar.update(metrics.frames_done - self._bar.n)
            metrics.tick()
        elif not self.quiet:
            now = time.monotonic()
            if now >= self._next_perf:
                self._next_perf = now + PERF_INTERVAL_S
                print(metrics.perf_line(), file=sys.stderr, flush=True)
                return
            metrics.tick()
        else:
            metrics.tick()

    def run(self) -> int:
        try:
            runner = self.build()
        except BaseException:
            self._cleanup()
            raise
        src = self.source
        if not self.quiet and not src.is_live:
            from tqdm import tqdm

            self._bar = tqdm(total=src.frame_count, unit="frame", file=sys.stderr,
                             dynamic_ncols=True, leave=True)
        self._next_perf = time.monotonic() + PERF_INTERVAL_S
        try:
            runner.run(on_tick=self._tick, tick_interval=0.5)
        finally:
            if self._bar is not None:
                self._bar.update(self.metrics.frames_done - self._bar.n)
                self._bar.close()
            if self.config.stats:
                self.metrics.source_report = skip_report(self.source)
                self.metrics.write_json(self.config.stats)
        m = self.metrics
        if not self.quiet:
            lat = m.end_to_end.summary()
            p95 = f", latency p95 {lat['p95_ms']:.0f} ms" if "p95_ms" in lat else ""
            _say(f"{m.frames_done} frames in {m.elapsed():.1f} s ({m.fps():.1f} fps end to end"
                 f"{p95}), dropped {m.dropped}; engine {m.engine}")
        if runner.interrupted:
            sig = signals.received()
            name = f" by {signal.Signals(sig).name}" if sig else ""
            _say(f"interrupted{name}: the outputs hold the {m.frames_done} frames processed")
            return 130
        ended_early = getattr(src, "ended_early", None)
        if ended_early:
            # the outputs are complete up to the cut, but a shorter video than announced is
            # bad input: say so and exit like any other bad input
            _say(f"error: {ended_early}; the outputs hold the {m.frames_done} frames before it")
            return InputError.exit_code
        report = skip_report(src)
        if report:
            # the outputs hold every decodable frame; the input itself is damaged
            _say(f"error: {src.uri}: skipped {report['skipped']} unreadable "
                 f"{report['unit']} ({report['text']}); the outputs hold the other "
                 f"{m.frames_done}")
            return InputError.exit_code
        return 0

