"""Find lanes in a video, camera or stream: draw them, save them, show them.

Examples:
  lanecam run drive.mp4 -o annotated.mp4 --lanes lanes.jsonl     every frame, in order
  lanecam run /dev/video0 --display                             live, low latency
  lanecam run rtsp://cam/stream --preview 8080                  watch at http://127.0.0.1:8080/
  lanecam run drive.mp4 --config run.toml                       options from a TOML file
  lanecam run drive.mp4 --engine keras                          the Keras original (reference)
  lanecam run drive.mcap --mcap annotated.mcap                  MCAP / ROS bag in, Foxglove out
  lanecam run /dev/video0 --foxglove 8765                       live in Foxglove (127.0.0.1)

Files are processed losslessly with a progress bar; live sources drop frames instead of
falling behind and print a PERF line every few seconds. A TOML config takes the long flag
names as keys (``lanes-format = "tusimple"``, ``display = true``, ``source = "drive.mp4"``);
flags on the command line win. Exit status: 0 done, 2 bad input or usage, 1 runtime failure,
130 interrupted (the output is complete up to the frames written).
"""

import sys

from lanecam.pipeline.cli.run_config import RunConfig, load_run_config, parse_h_samples
from lanecam.pipeline.options import add_flags

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    """The ``run`` flags, made from ``RunConfig`` (every default None, so a config file can
    fill what is not given)."""
    add_flags(parser, RunConfig)


def run(args) -> int:
    """Run the pipeline for the parsed ``args``; returns the exit status."""
    from lanecam.pipeline.cli.run_app import RunApp

    config = load_run_config(args)
    return RunApp(config, parse_h_samples(config.h_samples),
                  config_file=getattr(args, "config", None)).run()


if __name__ == "__main__":  # pragma: no cover
    from lanecam.pipeline.cli import main

    sys.exit(main(["run"] + sys.argv[1:]))
