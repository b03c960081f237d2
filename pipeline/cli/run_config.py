"""``lanecam run`` options as one typed config (``RunConfig``): the flags, the TOML config file
(keys = long flag names) and their checks all come from its fields."""

from dataclasses import dataclass
from typing import Optional, Union

from lanecam.pipeline.constants import DEFAULT_H_SAMPLES, range_text
from lanecam.pipeline.errors import InputError
from lanecam.engines.keras_code_scan import TRUST_HELP
from lanecam.pipeline.options import (load_config, max_threads, option, source_option,
                                      stream_option, stream_settings)

__all__ = ["RunConfig", "load_run_config", "parse_h_samples", "ENGINES", "MAX_H_SAMPLES"]

ENGINES = ("auto", "onnxruntime", "tensorrt", "keras")
# the source plugins that read recordings with topics (--topic)
ROBOTICS_PLUGINS = ("mcap", "rosbag")
# TuSimple rows per frame: more than an 8K frame has rows is a mistake, not a request
MAX_H_SAMPLES = 4320


def _crop_top(value):
    """``--crop-top``'s check (``pipeline.lanes.horizon``, imported when a value is given:
    that package needs OpenCV, and ``lanecam --help`` must not)."""
    from lanecam.pipeline.lanes.horizon import parse_crop_top

    return parse_crop_top(value)


@dataclass(frozen=True)
class RunConfig:
    """Everything ``lanecam run`` takes; see ``lanecam run --help`` for each field."""

    source: Optional[str] = source_option(
        "video file, image folder/glob, camera index, /dev/videoN, v4l2://, csi://, rtsp://, "
        "http(s)://, GStreamer pipeline, synthetic://, MCAP file (mcap://FILE?topic=NAME) or "
        "ROS bag (.bag, ROS 2 bag folder)")
    output: Optional[str] = option(flags=("-o",), metavar="OUT",
                                   help="write the annotated video here (same size and fps)")
    lanes: Optional[str] = option(metavar="OUT.jsonl",
                                  help="write the lanes of every frame as JSON lines")
    lanes_format: str = option("native", choices=("native", "tusimple"),
                               help="JSON lines format")
    h_samples: str = option(range_text(DEFAULT_H_SAMPLES), metavar="START:STOP:STEP",
                            help="TuSimple rows: range(START, STOP, STEP)")
    display: bool = option(False, kind=bool, help="show the result in a window")
    preview: Optional[str] = option(metavar="[HOST:]PORT", also=(int,),
                                    help="serve an MJPEG preview (127.0.0.1 unless a host is "
                                         "given)")
    mcap: Optional[str] = option(metavar="OUT.mcap",
                                 help="write the frames, lane annotations, results and geometry "
                                      "as an MCAP file for Foxglove (topics /lanecam/*)")
    foxglove: Optional[str] = option(metavar="[HOST:]PORT", also=(int,),
                                     help="serve the same channels live to Foxglove over "
                                          "WebSocket (127.0.0.1 unless a host is given)")
    images: Optional[str] = option(metavar="DIR",
                                   help="write every annotated frame as an image into DIR")
    model: Optional[str] = option(
        metavar="PATH",
        help="model: .onnx, a TensorRT plan, or .keras/.h5/SavedModel for the keras reference "
             "engine; default the bundled one")
    spec: Optional[str] = option(metavar="SPEC.json",
                                 help="the model's ModelSpec, for a model with none embedded "
                                      "or beside it")
    engine: str = option("auto", choices=ENGINES,
                         help="engine (auto: TensorRT for a plan or where installed, keras for "
                              "a Keras model, else onnxruntime)")
    engine_cache: Optional[str] = option(
        metavar="DIR",
        help="TensorRT plans built from an ONNX model are kept here, one per model, precision, "
             "TensorRT version and GPU (default $LANECAM_ENGINE_CACHE or "
             "~/.cache/lanecam/engines)")
    calibration: Optional[str] = option(
        metavar="PROFILE",
        help="camera profile JSON: undistort frames, report curvature/offset in metres")
    realtime: bool = option(False, kind=bool,
                            help="pace a file at its own fps and treat it as live")
    topic: Optional[str] = option(metavar="NAME",
                                  help="the image topic of an MCAP file or ROS bag (needed when "
                                       "it has several)")
    open_timeout: Optional[float] = stream_option("open_timeout")
    read_timeout: Optional[float] = stream_option("read_timeout")
    max_backoff: Optional[float] = stream_option("max_backoff")
    give_up_after: Optional[float] = stream_option("give_up_after")
    stats: Optional[str] = option(metavar="OUT.json",
                                  help="write the run's metrics summary as JSON")
    threads: Optional[int] = option(kind=int, metavar="N", low=1, high=max_threads,
                                    help="ONNX Runtime intra-op threads (default: half the "
                                         "cores, at least 1; the other stages use the rest)")
    crop_top: Optional[Union[float, str]] = option(
        metavar="F|auto", parse=_crop_top,
        help="share of the frame height cut off above the road before the model (default: "
             "the model's, 0.30 for the bundled one, whose training camera's lane lines meet "
             "at 0.315 of the height): about 0.015 above where the lane lines meet; auto: "
             "start at the model's and move it up to that for a camera whose lines meet "
             "higher (after about 10 frames with both ego lines; docs/usage.md, \"Another "
             "camera\")")
    no_hud: bool = option(False, kind=bool, help="do not draw the FPS/latency HUD")
    heatmap: Optional[str] = option(
        metavar="MODEL.onnx",
        help="blend the score map of a convolutionalized classifier under the lanes (made by "
             "`lanecam convolutionalize ... --onnx`)")
    quiet: bool = option(False, kind=bool, help="no progress bar or PERF lines")
    trust_model_code: bool = option(
        False, kind=bool,
        help=TRUST_HELP)

    def source_options(self) -> dict:
        """Keywords for ``open_source``: ``realtime`` and the stream timeouts that were set."""
        options = stream_settings(self, self.source)
        if self.realtime:
            options["realtime"] = True
        if self.topic:
            options["topic"] = self.topic
        return options

    @property
    def draws(self) -> bool:
        """True when some output shows or saves the annotated pixels."""
        return bool(self.output or self.images or self.display or self.preview)

    def detector_config(self, fps: float = 25.0):
        """The ``DetectorConfig`` of this run (the model, engine and calibration fields)."""
        from lanecam.pipeline.detector import DetectorConfig

        return DetectorConfig(model=self.model, engine=self.engine, spec=self.spec,
                              calibration=self.calibration, threads=self.threads,
                              engine_cache=self.engine_cache, heatmap=self.heatmap,
                              hud=not self.no_hud, fps=fps,
                              trust_model_code=self.trust_model_code or None,
                              crop_top=self.crop_top)


def load_run_config(args) -> RunConfig:
    """The run's config from the parsed ``args`` (and ``--config``); refuses a missing SOURCE."""
    config = load_config(RunConfig, args)
    if not config.source:
        raise InputError("no SOURCE given: expected a video, folder, camera, URL or pipeline "
                         "(on the command line or as `source` in --config)")
    parse_h_samples(config.h_samples)  # checked now, with the other options
    stream_settings(config, config.source)  # timeouts given for a file are refused now too
    check_topic(config.topic, config.source)
    return config


def check_topic(topic: Optional[str], source: Optional[str]) -> None:
    """Refuse ``--topic`` for a SOURCE that has no topics (a video, a camera): ignoring it
    would hide a mistake."""
    if topic and source:
        from lanecam.pipeline.sources.registry import find_plugin

        if find_plugin(source).name not in ROBOTICS_PLUGINS:
            raise InputError(f"--topic {topic}: only for MCAP files and ROS bags, not for "
                             f"{source}")


def parse_h_samples(text: str) -> range:
    """``"START:STOP:STEP"`` -> ``range(START, STOP, STEP)`` (TuSimple rows), refused unless
    0 <= START < STOP, STEP > 0 and at most ``MAX_H_SAMPLES`` rows."""
    parts = str(text).split(":")
    try:
        a, b, s = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"--h-samples {text!r}: expected START:STOP:STEP integers, e.g. "
                         f"{range_text(DEFAULT_H_SAMPLES)}") from None
    if not (0 <= a < b and s > 0):
        raise InputError(f"--h-samples {text!r}: expected 0 <= START < STOP and STEP > 0")
    rows = range(a, b, s)
    if len(rows) > MAX_H_SAMPLES or b > 8 * MAX_H_SAMPLES:
        raise InputError(f"--h-samples {text!r}: {len(rows)} rows up to row {b}; expected at "
                         f"most {MAX_H_SAMPLES} rows within an 8K frame")
    return rows
