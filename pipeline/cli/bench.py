"""Measure FPS and latency: the model alone, a sequential loop and the pipelined runtime.

Examples:
  lanecam bench                                        synthetic 1280x720 drive, bundled model
  lanecam bench drive.mp4 --json b.json --markdown b.md --plot b.png
  lanecam bench drive.mp4 --engine onnxruntime,tensorrt          side by side in one table
  lanecam bench --model lanefcn.onnx,lanefcn_fp16.onnx --threads 1,2
  lanecam bench /dev/video0 --seconds 30                         live: drops are counted

In one run, on the same frames: the model alone (batch 1, warmed up, synchronised; batch N
too when the model has a dynamic batch), the same stages in a plain loop, and the threaded
pipeline of `lanecam run` (overlay drawn, null sink unless --sinks). Reported: FPS of each,
per-stage and end-to-end latency p50/p95/p99, drops, CPU use per core, peak memory and memory
growth per frame, engine / providers / library versions / CPU and GPU, and the bound set by the
slowest stage and the core count with the pipeline's efficiency against it. On a Jetson also
L4T/JetPack, nvpmodel, jetson_clocks and tegrastats (GPU load, EMC, temperatures, power).

SOURCE defaults to a reproducible synthetic drive at 1280x720 whose first frames are rendered
once and replayed from memory (--preload), so the renderer is not what gets measured; a video
file is decoded in every run (decoding is part of the cost of a recorded drive).
"""

import shlex
import sys
from dataclasses import dataclass
from typing import Optional

from lanecam.engines.keras_code_scan import TRUST_HELP
from lanecam.pipeline.options import (add_flags, load_config, option, source_option,
                                      stream_option, stream_settings)

__all__ = ["BenchConfig", "add_arguments", "run"]


@dataclass(frozen=True)
class BenchConfig:
    """Everything ``lanecam bench`` takes (flags and ``--config`` TOML keys)."""

    source: Optional[str] = source_option(
        "video, folder, camera, stream or synthetic:// URI (default: a synthetic 1280x720 "
        "drive)")
    frames: Optional[int] = option(kind=int, metavar="N", low=1, high=10_000_000,
                                   help="frames per run (default: the whole file; 300 for "
                                        "endless sources)")
    seconds: Optional[float] = option(kind=float, metavar="S", low=0.1, high=86_400.0,
                                      help="seconds per run instead of --frames")
    engine: str = option("auto", metavar="E[,E...]",
                         help="engines to compare: auto, onnxruntime, tensorrt, keras")
    model: Optional[str] = option(metavar="M[,M...]",
                                  help="models to compare (default: the bundled model)")
    threads: Optional[str] = option(metavar="N[,N...]", also=(int,),
                                    help="ONNX Runtime intra-op threads to compare (default: "
                                         "the engine's, as lanecam run)")
    calibration: Optional[str] = option(
        metavar="PROFILE",
        help="camera profile JSON, as in lanecam run: undistortion and geometry (curvature, "
             "offset, departure) are part of what is measured")
    json: Optional[str] = option(metavar="OUT.json", help="write the full report as JSON")
    markdown: Optional[str] = option(metavar="OUT.md", help="write the report as Markdown tables")
    plot: Optional[str] = option(metavar="OUT.png", help="write latency histograms and a "
                                                         "timeline (needs lanecam[plot])")
    warmup: int = option(10, kind=int, metavar="N", low=0, high=100_000,
                         help="frames (and model calls) left out of the statistics")
    batch: int = option(8, kind=int, metavar="N", low=1, high=256,
                        help="batch size of the model-only throughput figure (1: none)")
    preload: Optional[int] = option(kind=int, metavar="K", low=0, high=10_000,
                                    help="read K frames into memory once and replay them "
                                         "(default: 32 for synthetic://, 0 otherwise)")
    sinks: str = option("null", metavar="S[,S...]",
                        help="sinks in the sequential and pipelined runs: null, video, jsonl")
    outputs: Optional[str] = option(metavar="DIR", help="keep the sinks' outputs here "
                                                        "(default: a temp folder)")
    repeat: Optional[int] = option(kind=int, metavar="R", low=1, high=100,
                                   help="run sequential and pipelined R times, alternating; "
                                        "report the median (default: up to 3 times while the "
                                        "runs so far took under 20 s)")
    open_timeout: Optional[float] = stream_option("open_timeout")
    read_timeout: Optional[float] = stream_option("read_timeout")
    max_backoff: Optional[float] = stream_option("max_backoff")
    give_up_after: Optional[float] = stream_option("give_up_after")
    live: bool = option(False, kind=bool,
                        help="release the frames at the source's fps like a camera: live ring "
                             "policies, drops counted, latency of a live stream (default: as "
                             "fast as possible, lossless)")
    no_hud: bool = option(False, kind=bool, help="do not draw the HUD text in the overlay")
    no_tegrastats: bool = option(False, kind=bool, help="do not sample tegrastats on a Jetson")
    quiet: bool = option(False, kind=bool, help="only the final table")
    trust_model_code: bool = option(
        False, kind=bool,
        help=TRUST_HELP)


def add_arguments(parser) -> None:
    """The ``bench`` flags, made from ``BenchConfig``."""
    add_flags(parser, BenchConfig)


def _list(text, what: str, cast=str):
    from lanecam.pipeline.errors import InputError

    if text is None:
        return [None]
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise InputError(f"--{what}: expected a comma-separated list, got {text!r}")
    try:
        return [cast(t) for t in items]
    except ValueError:
        raise InputError(f"--{what}: expected comma-separated integers, got {text!r}") from None


def _thread_count(n):
    from lanecam.pipeline.errors import InputError
    from lanecam.pipeline.options import max_threads

    if n is not None and not 1 <= n <= max_threads():
        raise InputError(f"--threads: expected counts between 1 and {max_threads()}, got {n}")
    return n


def run(args) -> int:
    """Run the benchmark for the parsed ``args``; returns the exit status."""
    from lanecam.engines.loader import ENGINE_NAMES
    from lanecam.pipeline.bench import (DEFAULT_SOURCE, BenchSettings, run_benchmark, summary_lines,
                                to_markdown, write_json, write_plot, write_text)
    from lanecam.pipeline.errors import InputError

    config_path = getattr(args, "config", None)
    args = load_config(BenchConfig, args)
    if args.frames is not None and args.seconds is not None:
        raise InputError("--frames and --seconds: give one of them, not both")
    source_options = stream_settings(args, args.source)
    from lanecam.engines.loader import model_files
    from lanecam.pipeline.outputs import check_outputs

    # minutes of measuring must not end in an unwritable report or an overwritten input
    # (every file read is an input: each model and the spec beside it too)
    models = {}
    for i, model in enumerate(_list(args.model, "model")):
        if model is not None:
            models.update(model_files(model, flag="--model" if i == 0 else f"--model #{i + 1}"))
    check_outputs({"SOURCE": args.source, **models, "--calibration": args.calibration,
                   "--config": config_path},
                  {"--json": args.json, "--markdown": args.markdown, "--plot": args.plot})
    if args.trust_model_code:
        import os

        # the engines are built deep inside the suite (and its subprocesses): the loader's
        # policy reads this variable where no explicit choice is passed
        os.environ["LANECAM_TRUST_MODEL_CODE"] = "1"
    engines = _list(args.engine, "engine")
    for e in engines:
        if e not in ENGINE_NAMES:
            raise InputError(f"--engine {e!r}: expected some of {', '.join(ENGINE_NAMES)}")
    sinks = [s for s in _list(args.sinks, "sinks") if s != "null"]
    settings = BenchSettings(
        source=args.source or DEFAULT_SOURCE, frames=args.frames, seconds=args.seconds,
        engines=engines, models=_list(args.model, "model"),
        threads=[_thread_count(t) for t in _list(args.threads, "threads", int)], warmup=args.warmup, batch=args.batch,
        preload=args.preload, sinks=sinks, outputs=args.outputs, repeat=args.repeat,
        hud=not args.no_hud, calibration=args.calibration, tegrastats=not args.no_tegrastats, live=args.live,
        command="lanecam bench " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        if sys.argv[1:2] == ["bench"] else None, source_options=source_options)
    if args.plot:
        # fail before minutes of measuring, not after
        from lanecam.pipeline.lazy import require

        require("matplotlib", "plot", "the benchmark plot (--plot)")
    say = (lambda msg: None) if args.quiet else \
        (lambda msg: print(f"lanecam bench: {msg}", file=sys.stderr, flush=True))
    report = run_benchmark(settings, progress=say)
    data = report.data
    for w in data["warnings"]:
        print(f"lanecam bench: warning: {w}", file=sys.stderr)
    if args.json:
        write_json(data, args.json)
    markdown = to_markdown(data)
    if args.markdown:
        write_text(markdown, args.markdown)
    if args.plot:
        write_plot(report, args.plot)
    for line in summary_lines(data):
        print(line)
    return 0
