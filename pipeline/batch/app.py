"""What ``lanecam batch`` does: check, list the videos, skip what is done, run the rest on
Ray, record each finished video, write the summary, report.

Exit status: 0 every video done (or done before), 2 some inputs bad (missing, unreadable,
corrupt, damaged: listed at the end), 1 a runtime failure (a worker that kept dying, a
bug), 130 / 143 / 129 on Ctrl-C / SIGTERM / SIGHUP with every video finished so far kept.
"""

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Dict, Optional, Sequence

from lanecam.pipeline.batch.inputs import discover
from lanecam.pipeline.batch.layout import Layout
from lanecam.pipeline.batch.ledger import Ledger, model_identity, video_key
from lanecam.pipeline.batch.report import (SUMMARY_COLUMNS, Progress, problem_lines, totals_line,
                                           write_summary)
from lanecam.pipeline.errors import InputError

__all__ = ["BatchApp"]


def _say(msg: str) -> None:
    print(f"lanecam batch: {msg}", file=sys.stderr, flush=True)


LOCK_NAME = "_batch.lock"   # beside the ledger; kept after the job (removing it would race)


@contextlib.contextmanager
def _exclusive(out: Path):
    """Hold ``OUT/_batch.lock`` for the job: a second ``lanecam batch`` on the same output
    folder would interleave its ledger lines and staging renames with ours, so it is refused
    in one line instead. The lock is the kernel's (``flock``): it ends with the process, so a
    killed job never leaves the folder locked. Where ``fcntl`` is missing, no lock is taken."""
    try:
        import fcntl
    except ImportError:        # not a POSIX system
        yield
        return
    path = out / LOCK_NAME
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(f"--out {out}: another lanecam batch is writing to this folder "
                             f"(it holds {path}); wait for it to end or choose another "
                             f"--out") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _check_keras_model(model: str, trusted: bool) -> None:
    """A Keras model's format (one of HDF5 or zip, by its first bytes) and, unless trusted,
    its Lambda layers are checked here, before Ray starts: the workers would only refuse it
    video by video."""
    from lanecam.engines.keras_code_scan import refuse_code_layers, trust_from_env
    from lanecam.engines.keras_file import keras_format
    from lanecam.engines.keras_loader import KERAS_SUFFIXES, is_saved_model

    path = Path(model)
    if not (is_saved_model(path) or (path.is_file() and path.suffix.lower() in KERAS_SUFFIXES)):
        return
    if trusted or trust_from_env():
        keras_format(path)
    else:
        refuse_code_layers(path)


class BatchApp:
    """One ``lanecam batch`` invocation.

    Args:
        config: the job's ``BatchConfig`` (``lanecam.pipeline.cli.batch``).
        inputs: the INPUT arguments (files, folders, globs, manifests).
        num_cpus: CPUs of a locally started Ray (None: all of this machine's).
    """

    def __init__(self, config, inputs: Sequence[str], num_cpus: Optional[int] = None):
        self.config = config
        self.inputs = list(inputs)
        self.num_cpus = num_cpus
        self.rows: Dict[str, dict] = {}
        self.attempts: Dict[str, int] = {}
        self._finished: Dict[str, int] = {}  # video_id -> frames, for the progress bar
        self._progress: Optional[Progress] = None

    # ---- checks ------------------------------------------------------------------------------
    def _prepare_out(self) -> Path:
        """The output folder, created if missing (its parent must exist) and writable."""
        out = Path(self.config.out).expanduser()
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out}: is a file, expected a folder")
        if not out.exists():
            if not out.parent.is_dir():
                raise InputError(f"--out {out}: its parent folder {out.parent} does not exist")
            try:
                out.mkdir()
            except OSError as exc:
                raise InputError(f"--out {out}: cannot create it ({exc.strerror})") from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise InputError(f"--out {out}: the folder is not writable")
        return out.resolve()

    def _model_path(self) -> str:
        """The model file (the bundled one unless ``--model``), checked to exist, with the
        ``--spec`` and ``--calibration`` files: a typo stops the job before Ray starts."""
        from lanecam.engines.loader import resolve_model

        c = self.config
        model = str(resolve_model(c.model, c.engine))
        if not Path(model).exists():
            raise InputError(f"--model {model}: no such file" if c.model else
                             f"{model}: the bundled model is missing; pass --model PATH")
        for flag, path in (("--spec", c.spec), ("--calibration", c.calibration)):
            if path and not Path(path).is_file():
                raise InputError(f"{flag} {path}: no such file")
        _check_keras_model(model, c.trust_model_code)
        return model

    def _kinds(self):
        """The output kinds of this job: lanes always, videos, JSON lines and MCAP files when
        asked."""
        c = self.config
        return ["lanes"] + [k for k, on in (("videos", c.videos), ("jsonl", c.jsonl),
                                            ("mcap", c.mcap)) if on]

    # ---- the run -------------------------------------------------------------------------------
    def run(self) -> int:
        """Run the job; returns the exit status."""
        from lanecam import __version__
        from lanecam.pipeline.batch.cluster import import_ray
        from lanecam.pipeline.lazy import require

        wall0 = time.monotonic()
        import_ray()  # a missing extra is said now, not after the listing
        require("pyarrow", "batch", "Parquet output")
        if self.config.mcap:
            require("foxglove", "robotics", "lanecam batch --mcap")
        out = self._prepare_out()
        with _exclusive(out):
            return self._run(out, wall0, __version__)

    def _run(self, out: Path, wall0: float, version: str) -> int:
        """The job, once the output folder is this job's alone."""
        c = self.config
        model = self._model_path()
        jobs, bad = discover(self.inputs, exclude=str(out))
        if not jobs:
            listed = "; ".join(f"{b.text} ({b.reason})" for b in bad) or "no INPUT given"
            raise InputError(f"nothing to process: {listed}; expected video files, folders, "
                             "globs or .txt/.csv manifests")
        model_id = model_identity(model, c.engine, c.spec, c.calibration, version, c.crop_top)
        ledger = Ledger(out).load()
        wanted = self._kinds()
        for b in bad:
            self.rows[f"bad:{b.text}"] = {"path": b.text, "status": "failed",
                                          "error_kind": "input", "error": b.reason}
        todo = []
        for job in jobs:
            entry = None if c.force else ledger.done(video_key(job, model_id), wanted)
            if entry is not None and entry.get("summary", {}).get("status") == "damaged":
                # the same damaged file again: its outputs hold what could be read, redoing it
                # gives the same; it stays listed as damaged (not counted as processed now)
                self.rows[job.video_id] = {**entry["summary"], "video_id": job.video_id,
                                           "path": job.path, "status": "damaged",
                                           "before": True}
            elif entry is not None:
                self.rows[job.video_id] = {**entry.get("summary", {}), "video_id": job.video_id,
                                           "path": job.path, "status": "skipped"}
            else:
                self.rows[job.video_id] = {"video_id": job.video_id, "path": job.path,
                                           "status": "not started"}
                todo.append(job)
        if not c.quiet:
            found = f"{len(jobs)} video{'s' * (len(jobs) != 1)} found"
            _say(f"{found}, {len(jobs) - len(todo)} done before"
                 + (f", {len(bad)} inputs bad" if bad else "") + f"; model {Path(model).name} "
                 f"({model_id}); outputs in {out}")
        # largest first: a two-hour drive listed last would otherwise run alone at the end
        todo.sort(key=lambda j: j.size, reverse=True)
        ray_s = processing = None
        interrupted = False
        if todo:
            ray_s, processing, interrupted = self._process(todo, out, ledger, model_id)
        rows = list(self.rows.values())
        write_summary(str(out), rows)
        for line in problem_lines(rows):
            _say(line)
        _say(totals_line(rows, processing or 0.0, time.monotonic() - wall0, ray_s, str(out)))
        if interrupted:
            return 130
        if any(r.get("error_kind") == "runtime" for r in rows if r["status"] == "failed"):
            return 1
        return 2 if any(r["status"] in ("failed", "damaged") for r in rows) else 0

    def _process(self, todo, out: Path, ledger: Ledger, model_id: str):
        """Run ``todo`` on Ray; returns ((Ray start-up s, shut-down s), processing s,
        interrupted)."""
        from lanecam.pipeline.batch.cluster import RayBackend
        from lanecam.pipeline.batch.worker import WorkerOptions

        c = self.config
        cpus = c.task_cpus(self.num_cpus)   # None on a cluster: the backend sizes it
        layout = Layout(out)
        layout.make_folders(self._kinds())
        options = WorkerOptions(out=str(out), detector=c.detector_config(), model_id=model_id,
                                videos=bool(c.videos), jsonl=bool(c.jsonl),
                                mcap=bool(c.mcap), topic=c.topic,
                                cpu_threads=max(1, int(cpus or 2)))
        backend = RayBackend(c.address, cpus, c.gpus_per_task, c.max_concurrency,
                             num_cpus=self.num_cpus)
        interrupted = False
        startup, t0, t1 = 0.0, time.monotonic(), None
        try:
            startup = backend.start()
            t0 = time.monotonic()
            self._progress = Progress(len(todo), enabled=not c.quiet)

            def on_result(job, summary):
                self._record(job, summary, ledger, model_id)

            backend.run(todo, options, on_result, self._tick)
            t1 = time.monotonic()
        except KeyboardInterrupt:
            t1 = time.monotonic()
            interrupted = True
            for job in backend.stop_workers():
                self.rows[job.video_id].update(status="interrupted")
                layout.remove_leftovers(job.video_id)
        finally:
            if self._progress is not None:
                self._progress.close()
            t_stop = time.monotonic()
            backend.shutdown()
            layout.remove_empty_staging()
        return (startup, time.monotonic() - t_stop), (t1 or t_stop) - t0, interrupted

    def _record(self, job, summary: dict, ledger: Ledger, model_id: str) -> None:
        """A video ended: its summary row, and a ledger line when it is done."""
        row = {name: summary.get(name) for name, _ in SUMMARY_COLUMNS if name in summary}
        row.update(error_kind=summary.get("error_kind"),
                   lanes_file=summary.get("outputs", {}).get("lanes"),
                   attempts=self.attempts.get(job.video_id))
        self.rows[job.video_id] = {**self.rows[job.video_id], **row}
        self._finished[job.video_id] = int(summary.get("frames") or 0)
        if summary["status"] in ("done", "damaged"):  # damaged: every readable frame is in
            kept = {name: row.get(name) for name, _ in SUMMARY_COLUMNS}
            ledger.record(video_key(job, model_id), summary["outputs"], kept)

    def _tick(self, snapshot: dict) -> None:
        self.attempts.update(snapshot.get("attempts", {}))
        for video_id, n in self.attempts.items():
            if video_id in self.rows and video_id in self._finished:
                self.rows[video_id]["attempts"] = n
        running = sum(n for v, n in snapshot.get("frames", {}).items() if v not in self._finished)
        if self._progress is not None:
            self._progress.update(len(self._finished), sum(self._finished.values()) + running)

