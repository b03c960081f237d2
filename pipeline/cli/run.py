"""Find lanes in a video, camera or stream: draw them, save them, show them.

Examples:
  lanecam run drive.mp4 -o annotated.mp4 --lanes lanes.jsonl     every frame, in order
  lanecam run /dev/video0 --display                             live, low latency
  lanecam run rtsp://cam/stream --preview 8080                  watch at http://127.0.0.1:8080/
  lanecam run drive.mp4 --config run.toml                       options from a TOML file
  lanecam run drive.mp4 --engine keras                          the Keras original (reference)

Files are processed losslessly with a progress bar; live sources drop frames instead of
falling behind and print a PERF line every few seconds. A TOML config takes the long flag
names as keys (``lanes-format = "tusimple"``, ``display = true``, ``source = "drive.mp4"``);
flags on the command line win. Exit status: 0 done, 2 bad input or usage, 1 runtime failure,
130 interrupted (the output is complete up to the frames written).
"""

import sys

from lanecam.pipeline.cli.run_config import DEFAULTS, merge_config, parse_h_samples

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    """The ``run`` flags; every default is None so a config file can fill what is not given."""
    a = parser.add_argument
    a("source", nargs="?", metavar="SOURCE",
      help="video file, image folder/glob, camera index, /dev/videoN, v4l2://, csi://, rtsp://, "
           "http(s)://, GStreamer pipeline or synthetic://")
    a("-o", "--output", metavar="OUT", help="write the annotated video here (same size and fps)")
    a("--lanes", metavar="OUT.jsonl", help="write the lanes of every frame as JSON lines")
    a("--lanes-format", choices=("native", "tusimple"), help="JSON lines format (native)")
    a("--h-samples", metavar="A:B:S",
      help=f"TuSimple rows range(A, B, S) ({DEFAULTS['h_samples']})")
    a("--display", action="store_true", default=None, help="show the result in a window")
    a("--preview", metavar="[HOST:]PORT",
      help="serve an MJPEG preview (127.0.0.1 unless a host is given)")
    a("--images", metavar="DIR", help="write every annotated frame as an image into DIR")
    a("--model", metavar="PATH",
      help="model: .onnx, a TensorRT plan, or .keras/.h5/SavedModel for the keras reference "
           "engine; default the bundled one")
    a("--spec", metavar="SPEC.json",
      help="the model's ModelSpec, for a model with none embedded or beside it")
    a("--engine", choices=("auto", "onnxruntime", "tensorrt", "keras"),
      help="engine (auto: TensorRT for a plan or where installed, keras for a Keras model, "
           "else onnxruntime)")
    a("--engine-cache", metavar="DIR",
      help="TensorRT plans built from an ONNX model are kept here, one per model, precision, "
           "TensorRT version and GPU (default $LANECAM_ENGINE_CACHE or ~/.cache/lanecam/engines)")
    a("--calibration", metavar="PROFILE",
      help="camera profile JSON: undistort frames, report curvature/offset in metres")
    a("--realtime", action="store_true", default=None,
      help="pace a file at its own fps and treat it as live")
    a("--stats", metavar="OUT.json", help="write the run's metrics summary as JSON")
    a("--config", metavar="FILE", help="TOML file whose keys are these flags' long names")
    a("--threads", type=int, metavar="N",
      help="ONNX Runtime intra-op threads (default: half the cores, at least 1; the other "
           "stages use the rest)")
    a("--no-hud", action="store_true", default=None, help="do not draw the FPS/latency HUD")
    a("--heatmap", metavar="MODEL.onnx",
      help="blend the score map of a convolutionalized classifier under the lanes "
           "(made by `lanecam convolutionalize ... --onnx`)")
    a("--quiet", action="store_true", default=None, help="no progress bar or PERF lines")


def run(args) -> int:
    """Run the pipeline for the parsed ``args``; returns the exit status."""
    from lanecam.pipeline.cli.run_app import RunApp

    opts = merge_config(args, DEFAULTS)
    app = RunApp(opts, parse_h_samples(opts["h_samples"]))
    return app.run()


if __name__ == "__main__":  # pragma: no cover
    from lanecam.pipeline.cli import main

    sys.exit(main(["run"] + sys.argv[1:]))
