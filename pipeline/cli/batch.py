"""Find lanes in a whole archive of videos, on this machine or a Ray cluster.

Examples:
  lanecam batch drives/ --out results/                     every video under drives/
  lanecam batch "drives/**/*.mp4" list.txt --out results/  globs and manifests (.txt, .csv)
  lanecam batch drives/ --out results/ --address auto      on the Ray cluster of this node
  lanecam batch drives/ --out results/ --videos --jsonl    also annotated videos, JSON lines
  lanecam batch bags/ --out results/ --mcap                ROS bags and MCAP files, MCAP out

INPUT is a video, an MCAP file or ROS bag (.bag, a ROS 2 bag folder), a folder (searched
recursively; a folder of images is one sequence), a glob or a manifest (one path a line; a
.csv's `path` column). Every video runs through the `lanecam run` pipeline and model, frame
by frame and in order, one Ray task per video; the model is loaded once per worker. Without
--address, Ray starts on this machine and stops at the end (pip install "lanecam[batch]").
Outputs in --out: lanes/<video>.parquet (one row per frame), summary.csv and summary.parquet
(one row per video), videos/, jsonl/ and mcap/ when asked.
A video's files appear only when it is complete; a rerun skips the videos done before (same
path, size, modification time and model), --force redoes them. A worker that dies is
replaced and its video redone; a corrupt video is listed as failed and the job goes on.
Exit status: 0 all done, 2 some inputs bad (listed), 1 runtime failure, 130 interrupted
(every video finished so far kept).
"""

import sys
from dataclasses import dataclass, field
from typing import Optional, Union

from lanecam.pipeline.cli.run_config import RunConfig
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.options import add_flags, load_config, option

__all__ = ["BatchConfig", "add_arguments", "run", "load_batch_config"]


def _as_in_run(name: str):
    """The ``lanecam run`` option ``name``, with its flag, help, checks and default."""
    spec = RunConfig.__dataclass_fields__[name]
    return field(default=spec.default, metadata=spec.metadata)


@dataclass(frozen=True)
class BatchConfig:
    """Everything ``lanecam batch`` takes besides its INPUTs; see ``lanecam batch --help``."""

    out: Optional[str] = option(metavar="DIR", help="output folder (created if missing; on a "
                                                    "cluster, one every node can write)")
    address: Optional[str] = option(
        metavar="ADDRESS",
        help="join a running Ray cluster: auto (the one this node belongs to), HOST:6379 or "
             "ray://HOST:10001; default: start Ray on this machine for this job")
    cpus_per_task: Optional[float] = option(
        kind=float, low=0.01, high=1024, metavar="N",
        help="CPUs each video's worker reserves, fractions allowed (default 2: one video's "
             "pipeline keeps about two cores busy; at most this machine's CPUs when Ray starts "
             "here)")
    gpus_per_task: float = option(0.0, kind=float, low=0.0, high=64, metavar="N",
                                  help="GPUs each worker reserves, e.g. 0.25 for four TensorRT "
                                       "workers per GPU")
    max_concurrency: Optional[int] = option(kind=int, low=1, high=100_000, metavar="N",
                                            help="at most N videos at once (default: as many "
                                                 "as the CPUs/GPUs hold)")
    force: bool = option(False, kind=bool, help="redo videos already done in --out")
    videos: bool = option(False, kind=bool, help="also write annotated videos (videos/)")
    jsonl: bool = option(False, kind=bool, help="also write native JSON lines (jsonl/)")
    mcap: bool = option(False, kind=bool,
                        help="also write one MCAP file per input for Foxglove (mcap/: frames, "
                             "lane annotations, results, geometry; pip install "
                             "\"lanecam[robotics]\")")
    topic: Optional[str] = option(metavar="NAME",
                                  help="the image topic of the MCAP files and ROS bags (needed "
                                       "for those with several)")
    model: Optional[str] = _as_in_run("model")
    spec: Optional[str] = _as_in_run("spec")
    engine: str = _as_in_run("engine")
    engine_cache: Optional[str] = _as_in_run("engine_cache")
    calibration: Optional[str] = _as_in_run("calibration")
    crop_top: Optional[Union[float, str]] = _as_in_run("crop_top")
    threads: Optional[int] = option(kind=int, metavar="N", low=1, high=256,
                                    help="ONNX Runtime threads per worker (default: half its "
                                         "--cpus-per-task, at least 1)")
    no_hud: bool = _as_in_run("no_hud")
    quiet: bool = option(False, kind=bool, help="no progress bars")
    trust_model_code: bool = _as_in_run("trust_model_code")

    def task_cpus(self, local_cpus: Optional[int] = None) -> Optional[float]:
        """``--cpus-per-task``, or its default: 2, and no more than a locally started Ray has
        (``local_cpus``, else this machine's count); None on a cluster, where the Ray backend
        takes 2 or the largest node's CPUs if fewer once joined. Two, because the threaded
        pipeline of one video keeps about two cores busy (decode, preprocess, inference,
        overlay): on 2 cores one 2-CPU worker ran the shared videos at 0.99x of ``lanecam
        run`` one after another, two 1-CPU workers fighting for the cores at 0.89x
        (benchmarks/batch_vs_run.py)."""
        if self.cpus_per_task is not None:
            return float(self.cpus_per_task)
        if self.address is None:
            import os

            return float(min(2, local_cpus or os.cpu_count() or 1))
        return None

    def detector_config(self):
        """The workers' ``DetectorConfig`` (model, engine and calibration of this job)."""
        from lanecam.pipeline.detector import DetectorConfig

        threads = self.threads or max(1, int(self.task_cpus() or 2) // 2)
        return DetectorConfig(model=self.model, engine=self.engine, spec=self.spec,
                              calibration=self.calibration, threads=threads,
                              engine_cache=self.engine_cache, hud=not self.no_hud,
                              trust_model_code=self.trust_model_code or None,
                              crop_top=self.crop_top)


def add_arguments(parser) -> None:
    """The ``batch`` flags: INPUT..., then the ``BatchConfig`` fields."""
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="video files, MCAP files, ROS bags, folders, globs or .txt/.csv "
                             "manifests")
    add_flags(parser, BatchConfig)


def load_batch_config(args) -> BatchConfig:
    """The job's config from the parsed ``args`` (and ``--config``); refuses a missing
    ``--out`` or INPUT."""
    config = load_config(BatchConfig, args)
    if not getattr(args, "inputs", None):
        raise InputError("no INPUT given: expected video files, folders, globs or .txt/.csv "
                         "manifests")
    if not config.out:
        raise InputError("no --out DIR given: expected the folder for the results")
    return config


def run(args) -> int:
    """Run the batch job for the parsed ``args``; returns the exit status."""
    from lanecam.pipeline.batch.app import BatchApp

    return BatchApp(load_batch_config(args), args.inputs).run()


if __name__ == "__main__":  # pragma: no cover
    from lanecam.pipeline.cli import main

    sys.exit(main(["batch"] + sys.argv[1:]))
