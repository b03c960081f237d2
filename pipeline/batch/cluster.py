"""Ray for ``lanecam batch``: start or join it, keep one worker actor per concurrent video,
hand each an unfinished video as soon as it is free, and survive workers that die.

Each worker is a Ray actor around a ``VideoWorker`` (one model per actor: loaded once, used
for many videos) reserving ``--cpus-per-task`` CPUs and ``--gpus-per-task`` GPUs (fractions
allowed). Actors restart when their process dies (``max_restarts=-1``) and Ray retries the
video that was running (``max_task_retries``): the retry starts the video again from its
first frame and its outputs are written whole or not at all, so no row is lost or doubled.
A video that kills its worker every time fails after ``retries + 1`` attempts, and the job
goes on with a new worker.

Ray is imported when a ``RayBackend`` starts, never at module level.
"""

import logging
import math
import os
import signal
import threading
import time
from collections import deque
from typing import Callable, Dict, List, Optional, Sequence

from lanecam.pipeline.batch.watchdog import Watchdog
from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.lazy import require

__all__ = ["RayBackend", "ProgressBoard", "worker_slots", "import_ray", "RETRIES"]

# attempts at one video after the first, when its worker process dies (killed, OOM, node lost)
RETRIES = 3
_POLL_S = 0.25


def import_ray():
    """``ray``, or the one-line ``pip install "lanecam[batch]"`` error."""
    return require("ray", "batch", "lanecam batch")


class ProgressBoard:
    """Frames done per video, reported by the workers (a Ray actor needing no CPU)."""

    def __init__(self):
        self.frames: Dict[str, int] = {}
        self.attempts: Dict[str, int] = {}

    def started(self, video_id: str, pid: int) -> None:
        """A worker (process ``pid``) starts ``video_id``, from its first frame."""
        self.frames[video_id] = 0
        self.attempts[video_id] = self.attempts.get(video_id, 0) + 1

    def progress(self, video_id: str, frames: int) -> None:
        """``frames`` of ``video_id`` done in the current attempt."""
        self.frames[video_id] = frames

    def snapshot(self) -> dict:
        """``{"frames": {video_id: n}, "attempts": {video_id: n}}``."""
        return {"frames": dict(self.frames), "attempts": dict(self.attempts)}


# a video's threaded pipeline keeps about two cores busy (see BatchConfig.task_cpus)
DEFAULT_TASK_CPUS = 2.0


def worker_slots(resources: dict, cpus_per_task: float, gpus_per_task: float) -> int:
    """How many tasks of that size the resources hold at once."""
    eps = 1e-9  # Ray reports resources as floats: 2.0 CPUs hold four tasks of 0.5
    slots = math.floor(resources.get("CPU", 0.0) / cpus_per_task + eps) if cpus_per_task else 10**6
    if gpus_per_task:
        slots = min(slots, math.floor(resources.get("GPU", 0.0) / gpus_per_task + eps))
    return int(slots)


class RayBackend:
    """Runs ``VideoWorker.process`` on Ray, one video per task.

    Args:
        address: None: start Ray on this machine (stopped again at the end, or by the
            ``watchdog`` when this process is killed); "auto",
            ``HOST:PORT`` or ``ray://HOST:10001``: join that cluster.
        cpus_per_task, gpus_per_task: what each worker reserves.
        max_concurrency: at most this many videos at once (None: as many as fit).
        num_cpus: CPUs of a locally started Ray (None: Ray's count of this machine's).
        retries: attempts after the first when a worker dies.

    When Ray is already initialised in this process (a notebook, a test), it is used as it is
    and left running.
    """

    def __init__(self, address: Optional[str] = None, cpus_per_task: Optional[float] = 1.0,
                 gpus_per_task: float = 0.0, max_concurrency: Optional[int] = None,
                 num_cpus: Optional[int] = None, retries: int = RETRIES):
        self.address = address
        # None: DEFAULT_TASK_CPUS, or fewer when no node of the cluster has that many (known
        # once joined; see start)
        self.cpus_per_task = None if cpus_per_task is None else float(cpus_per_task)
        self.gpus_per_task = float(gpus_per_task)
        self.max_concurrency = max_concurrency
        self.num_cpus = num_cpus
        self.retries = retries
        self.ray = None
        self._started = False
        self._watchdog: Optional[Watchdog] = None
        self._actors: List = []
        self._inflight: Dict = {}

    # ---- Ray itself ------------------------------------------------------------------------
    def start(self) -> float:
        """Start or join Ray; returns the seconds it took."""
        t0 = time.monotonic()
        ray = self.ray = import_ray()
        if ray.is_initialized():
            return 0.0
        main = threading.current_thread() is threading.main_thread()
        names = [n for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
        saved = {n: signal.getsignal(getattr(signal, n)) for n in names} if main else {}
        common = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address is None:
                # what a job of Ray tasks needs only: no dashboard, no usage reports; and a
                # watchdog that ends this Ray if the driver is killed (``watchdog``)
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                self._watchdog = Watchdog(os.path.dirname(ray.__file__)).start()
                ray.init(address="local", num_cpus=self.num_cpus, include_dashboard=False,
                         **common)
            else:
                ray.init(address=self.address, **common)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"--address {self.address}" if self.address else "local Ray"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{where}: cannot start or join Ray ({first})") from None
        finally:
            # ray.init replaces the SIGTERM handler: ours finish the summary like Ctrl-C
            for n, handler in saved.items():
                if handler is not None:
                    signal.signal(getattr(signal, n), handler)
        self._started = True
        if self.cpus_per_task is None:
            largest = max((n.get("Resources", {}).get("CPU", 0.0) for n in ray.nodes()
                           if n.get("Alive")), default=0.0)
            self.cpus_per_task = min(DEFAULT_TASK_CPUS, largest) or DEFAULT_TASK_CPUS
        return time.monotonic() - t0

    def shutdown(self) -> None:
        """Stop the workers, and Ray itself when it was started here."""
        self.stop_workers()
        clean = False
        if self._started and self.ray is not None:
            self.ray.shutdown()
            self._started, clean = False, True
        if self._watchdog is not None:
            # after a failed or interrupted start the watchdog ends what Ray had started
            self._watchdog.stop(clean=clean)
            self._watchdog = None

    def stop_workers(self, wait_s: float = 3.0) -> List:
        """Kill every worker (Ctrl-C, or the end); returns the jobs that were running, once
        their workers are gone (at most ``wait_s``), so their staged files can be removed."""
        if self.ray is None:
            return []
        running = [job for job, _ in self._inflight.values()]
        refs = list(self._inflight)
        for actor in self._actors:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already dead is fine
                pass
        if refs:
            # a killed worker's task ends with an error: then its process no longer writes
            self.ray.wait(refs, num_returns=len(refs), timeout=wait_s)
        self._actors, self._inflight = [], {}
        return running

    def slots(self, jobs: int) -> int:
        """Workers to start for ``jobs`` videos: what the cluster holds, at most
        ``max_concurrency`` and ``jobs``. Refuses sizes no node of a local Ray can hold."""
        fit = worker_slots(self.ray.cluster_resources(), self.cpus_per_task, self.gpus_per_task)
        if fit < 1:
            have = self.ray.cluster_resources()
            what = (f"{have.get('CPU', 0):g} CPUs and {have.get('GPU', 0):g} GPUs for "
                    f"--cpus-per-task {self.cpus_per_task:g} --gpus-per-task "
                    f"{self.gpus_per_task:g}")
            if self.address is None:
                raise InputError(f"this machine's Ray has {what}: not enough for one task")
            fit = 1  # an autoscaling cluster may add nodes: the task waits for them
        return max(1, min(fit, self.max_concurrency or fit, jobs))

    # ---- the job -----------------------------------------------------------------------------
    def run(self, jobs: Sequence, options, on_result: Callable[[object, dict], None],
            on_tick: Optional[Callable[[dict], None]] = None) -> None:
        """Process ``jobs`` (``VideoJob``) with ``options`` (``WorkerOptions``).

        ``on_result(job, summary)`` is called in this thread as each video ends;
        ``on_tick(board snapshot)`` about every quarter second. A model that cannot be loaded
        stops the job: ``InputError`` (a bad model file) or ``LanecamError``.
        """
        from lanecam.pipeline.batch.worker import VideoWorker

        ray = self.ray
        board = ray.remote(num_cpus=0)(ProgressBoard).remote()
        worker_cls = ray.remote(VideoWorker).options(
            num_cpus=self.cpus_per_task, num_gpus=self.gpus_per_task,
            max_restarts=-1, max_task_retries=self.retries)
        self._actors = [worker_cls.remote(options) for _ in range(self.slots(len(jobs)))]
        idle = list(self._actors)
        pending = deque(jobs)
        while pending or self._inflight:
            while idle and pending:
                actor, job = idle.pop(), pending.popleft()
                self._inflight[actor.process.remote(job, board)] = (job, actor)
            ready, _ = ray.wait(list(self._inflight), num_returns=1, timeout=_POLL_S)
            if ready:  # collect everything finished by now, not one per poll
                rest = [r for r in self._inflight if r not in ready]
                ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0] if rest else []
            for ref in ready:
                job, actor = self._inflight.pop(ref)
                try:
                    summary = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    summary = self._died(job, exc)
                    actor = self._replace(actor, worker_cls, options)
                if summary.get("setup_failed"):
                    kind = InputError if summary.get("error_kind") == "input" else LanecamError
                    raise kind(summary["error"])
                idle.append(actor)
                on_result(job, summary)
            if on_tick is not None:
                on_tick(ray.get(board.snapshot.remote()))
        if on_tick is not None:
            on_tick(ray.get(board.snapshot.remote()))

    def _died(self, job, exc) -> dict:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()),
                     type(exc).__name__)
        return {"video_id": job.video_id, "path": job.path, "status": "failed",
                "error_kind": "runtime", "frames": 0, "outputs": {},
                "error": f"{job.path}: its worker died {self.retries + 1} times "
                         f"({type(exc).__name__}: {first})"}

    def _replace(self, actor, worker_cls, options):
        """A fresh worker instead of one Ray gave up on."""
        try:
            self.ray.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - it is dead already
            pass
        fresh = worker_cls.remote(options)
        self._actors = [a for a in self._actors if a is not actor] + [fresh]
        return fresh
