"""Training batches made ahead by a pool of worker processes (no TensorFlow in them).

Each worker holds the sample sources (renderer, real labelled frames, pseudo-labelled frames);
batch ``step`` of epoch ``e`` is a list of integer seeds and the source each sample comes from,
so a batch depends only on the run's seed, the epoch and the step, never on scheduling.

Stop signals are the main process's to handle. A signal sent to the whole process group
(``timeout``, ``kill -- -PGID``, a closing terminal) used to kill the workers too, and a
worker killed while it held the task queue's lock (``multiprocessing.Pool``) or half way
through writing a batch (``ProcessPoolExecutor``) left the main process waiting for good. So
a worker ignores SIGINT and SIGHUP, and obeys SIGTERM only from its parent (the pool's own
way to end a worker, when another one died); the main process stops, the running batches
finish, and the pool closes. The pool is a ``ProcessPoolExecutor``: its shutdown asks the
workers to exit, a dead worker fails the batches instead of losing one, and a failing
initializer stops it rather than being retried forever. A worker whose parent is gone (killed
with SIGKILL) exits within a second.
"""

import multiprocessing as mp
import os
import signal
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import resource_tracker
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline import signals
from lanecam.pipeline.errors import LanecamError

__all__ = ["init_worker", "start_pool", "Batches"]

_SOURCES = None


def init_worker(spec_dict: dict, thickness: int, labels: List[str], root: Optional[str],
                pseudo: Optional[str], pseudo_night: float = 0.0, scene_mix: str = "v2",
                strong: bool = False, hold_out: bool = False, own_labels: Sequence[str] = (),
                erase_outer: float = 0.0, barriers: float = 0.0, aspect_jitter: float = 0.0,
                markings: float = 0.0):
    """Worker initializer: the sample sources of this worker process."""
    global _SOURCES
    _leave_stopping_to_the_parent()
    import cv2

    cv2.setNumThreads(1)  # one worker, one core: OpenCV's own threads would fight TensorFlow
    from lanecam.tools.train.data import SampleMaker, SyntheticSource, TuSimpleSource

    maker = SampleMaker(ModelSpec.from_dict(spec_dict), thickness=thickness,
                        aspect_jitter=aspect_jitter)
    real = (TuSimpleSource(maker, [Path(p) for p in labels], Path(root), strong=strong,
                           skip_validation=hold_out, own_labels=[Path(p) for p in own_labels],
                           erase_outer=erase_outer, barriers=barriers,
                           markings=markings)
            if labels else None)
    pseudo_src = (TuSimpleSource(maker, [Path(pseudo) / "labels.json"], Path(pseudo),
                                 night=pseudo_night)
                  if pseudo else None)
    _SOURCES = (SyntheticSource(maker, mix=scene_mix), real, pseudo_src)


def _leave_stopping_to_the_parent() -> None:
    """In a worker: ignore SIGINT and SIGHUP; exit on SIGTERM only when the parent sent it,
    and when the parent is gone (module docstring). Where the platform cannot tell who sent a
    signal (no ``sigtimedwait``), SIGTERM keeps its default action."""
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if not (hasattr(signal, "sigtimedwait") and hasattr(signal, "pthread_sigmask")):
        return
    parent = os.getppid()
    # the worker was started with SIGTERM blocked (``_submit``), so every thread it has, the
    # ones numpy and OpenCV started as they were imported included, blocks it and only the
    # waiting thread below receives it; blocked here again for a caller that did not
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    def wait() -> None:
        while True:
            info = signal.sigtimedwait({signal.SIGTERM}, 1.0)
            if os.getppid() != parent:
                os._exit(1)          # the main process died without closing the pool
            if info is not None and info.si_pid == parent:
                os._exit(128 + signal.SIGTERM)

    threading.Thread(target=wait, name="stop-from-parent", daemon=True).start()


def start_pool(workers: int, initargs: tuple) -> ProcessPoolExecutor:
    """The sample workers' pool (spawned: forking after TensorFlow has started threads is
    unsafe); ``initargs`` are ``init_worker``'s arguments."""
    ctx = mp.get_context("spawn")
    if hasattr(signal, "SIGHUP") and hasattr(resource_tracker, "ensure_running"):
        # multiprocessing's resource tracker, a helper process in our process group, ignores
        # SIGINT and SIGTERM but dies of SIGHUP, and the pool's shared locks then leave a
        # traceback per lock at exit. An ignored signal stays ignored across exec, so it is
        # started with SIGHUP ignored.
        previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            resource_tracker.ensure_running()
        finally:
            signal.signal(signal.SIGHUP, previous)
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_worker,
                               initargs=initargs)


def _submit(pool: ProcessPoolExecutor, fn, arg):
    """``pool.submit(fn, arg)`` with SIGTERM blocked in this thread: the executor starts its
    workers inside ``submit``, and a started process keeps the signal mask it was started
    with. So every thread of a worker, numpy's and OpenCV's started as it imports them
    included, blocks SIGTERM, and only its waiting thread (``_leave_stopping_to_the_parent``)
    takes it; one unblocked thread would let a SIGTERM from anyone kill the worker. A SIGTERM
    that arrives meanwhile is delivered here as soon as the mask is restored."""
    if not hasattr(signal, "pthread_sigmask"):
        return pool.submit(fn, arg)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        return pool.submit(fn, arg)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _make_batch(task):
    seeds, kinds, augment = task
    samples = [_SOURCES[k](s, augment) for s, k in zip(seeds, kinds)]
    return tuple(np.stack(a) for a in zip(*samples))


class Batches:
    """Batches of one epoch, made ahead by a process pool (at most ``ahead`` in flight)."""

    def __init__(self, pool, cfg, epoch: int, ahead: int = 6):
        """``pool``: a ``ProcessPoolExecutor`` whose workers ran ``init_worker``; ``cfg``: the
        run's ``TrainConfig``."""
        self.pool, self.cfg, self.epoch, self.ahead = pool, cfg, epoch, ahead
        rng = np.random.default_rng([cfg.seed, epoch, 3])
        n = cfg.steps * cfg.batch
        # per sample: 0 synthetic, 1 real labelled (TuSimple format), 2 pseudo-labelled real
        u = rng.random(n)
        real = cfg.real_fraction if (cfg.data_labels or cfg.culane) else 0.0
        pseudo = cfg.pseudo_fraction if cfg.pseudo_videos else 0.0
        self.kinds = np.where(u < real, 1, np.where(u < real + pseudo, 2, 0))

    def _task(self, step: int):
        c = self.cfg
        i0 = step * c.batch
        seeds = [c.seed * 10**9 + self.epoch * 10**6 + i for i in range(i0, i0 + c.batch)]
        return seeds, self.kinds[i0:i0 + c.batch].tolist(), True

    def __iter__(self):
        try:
            yield from self._batches()
        except BrokenProcessPool as exc:   # a worker killed (out of memory?) or failing to start
            if signals.received():  # stopping anyway: say so, not that a worker broke
                raise signals.Interrupted(signals.received()) from None
            hint = "" if "initializer" in str(exc) else "; out of memory? --workers 1 uses less"
            raise LanecamError(f"training: a sample worker process failed ({exc}){hint}"
                               ) from None

    def _batches(self):
        pending = deque()
        nxt = 0
        for step in range(self.cfg.steps):
            while nxt < self.cfg.steps and len(pending) < self.ahead:
                pending.append(_submit(self.pool, _make_batch, self._task(nxt)))
                nxt += 1
            yield pending.popleft().result(timeout=600)
