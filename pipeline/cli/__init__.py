"""The ``lanecam`` command line: one entry point, one module per subcommand.

Each subcommand module in ``pipeline/cli/`` (or ``tools/...`` for offline work) defines
``add_arguments(parser)`` and ``run(args) -> int`` and imports nothing heavy at module level,
so ``lanecam --help`` works without TensorFlow, TensorRT or even ONNX Runtime. The first line
of the module docstring is the subcommand's help; the whole docstring is its description.
"""

import argparse
import importlib
import os
import sys

from lanecam.pipeline.errors import LanecamError

__all__ = ["main", "SUBCOMMANDS"]

# name -> module path. Keep alphabetical; each module is imported only to build the parser,
# and must therefore be light.
SUBCOMMANDS = {
    "batch": "lanecam.pipeline.cli.batch",
    "bench": "lanecam.pipeline.cli.bench",
    "birdseye": "lanecam.pipeline.cli.birdseye",
    "calibrate": "lanecam.pipeline.cli.calibrate",
    "convolutionalize": "lanecam.tools.convolutionalize.cli",
    "evaluate": "lanecam.tools.evaluate.cli",
    "export": "lanecam.tools.export.cli",
    "run": "lanecam.pipeline.cli.run",
    "train": "lanecam.tools.train.cli",
}


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="lanecam",
        description="Real-time lane detection on video with a fully convolutional network.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modpath in SUBCOMMANDS.items():
        try:
            mod = importlib.import_module(modpath)
        except ModuleNotFoundError as exc:
            if exc.name and modpath.startswith(exc.name):
                continue  # subcommand not built yet in this checkout
            raise
        doc = (mod.__doc__ or "").strip()
        p = sub.add_parser(
            name,
            help=doc.splitlines()[0] if doc else None,
            description=doc or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


# pip installs no OpenCV on aarch64 (a Jetson's JetPack OpenCV has GStreamer and CUDA, which
# a pip wheel would shadow); say how to get one instead of a traceback
_NO_OPENCV = ("OpenCV (cv2) is not importable. On a Jetson, make the venv with "
              "--system-site-packages to use JetPack's OpenCV (python3 -m venv "
              "--system-site-packages .venv); elsewhere: pip install opencv-python-headless")

# commands whose threaded runner arms the stop signals once it runs (see pipeline.signals)
_DEFERRED_SIGNALS = ("run",)


def main(argv=None) -> int:
    """Parse ``argv`` and run the subcommand; returns the process exit code.

    Ctrl-C, SIGTERM and SIGHUP finish the outputs and exit with 128 + the signal number
    (130, 143, 129).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv else ""
    _quiet_native_logs()
    try:
        from lanecam.pipeline import signals

        signals.install(deferred=bool(argv) and argv[0] in _DEFERRED_SIGNALS)
    except KeyboardInterrupt:  # Ctrl-C while the handlers were being imported and installed
        return _interrupted_early(command)
    try:
        parser = _build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        code = int(args._run(args) or 0)
        # a signal may have stopped the run gracefully: say which one in the exit status
        return signals.exit_code(code) if code == 130 else code
    except LanecamError as exc:
        print(f"lanecam {command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ModuleNotFoundError as exc:
        if exc.name != "cv2":
            raise
        print(f"lanecam {command}: error: {_NO_OPENCV}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        name = f" ({exc})" if isinstance(exc, signals.Interrupted) else ""
        print(f"lanecam {command}: interrupted{name}", file=sys.stderr)
        return signals.exit_code()


def _quiet_native_logs() -> None:
    """Keep the native libraries' own warnings off the terminal, before they are imported.

    OpenCV prints ``[ WARN ]`` lines (a stalled stream's "Stream timeout triggered") between
    our one-line messages, which say the same thing ("stream dropped; reconnecting"); its
    errors still show. Ray workers of ``lanecam batch`` inherit the setting. A user who sets
    ``OPENCV_LOG_LEVEL`` themselves gets what they set. (TensorFlow's start-up lines are kept
    off by ``engines.keras_loader.import_tensorflow``.)
    """
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    if "cv2" in sys.modules:  # imported already (in a test, an embedding program): tell it now
        logging = getattr(getattr(sys.modules["cv2"], "utils", None), "logging", None)
        if logging is not None and os.environ["OPENCV_LOG_LEVEL"].upper() == "ERROR":
            logging.setLogLevel(logging.LOG_LEVEL_ERROR)


def _interrupted_early(command: str) -> int:
    """A Ctrl-C before the stop signals are routed (Python still importing the command):
    one line and 130, as for a Ctrl-C later, instead of a traceback out of an import."""
    print(f"{' '.join(['lanecam', command]).strip()}: interrupted (SIGINT)", file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
