"""The runner: wires stages with rings, runs them as threads, stops them cleanly.

Shutdown rules it keeps: the end-of-stream marker goes downstream from every
stage in ``finally``, and a stage that exits closes its input ring, so the stages upstream of
it stop too instead of blocking on a full ring. The first exception in any stage stops the run:
the source stops, the stages after the failed one finish what they already hold (at most
``error_drain_timeout`` s, then every ring and the pool are closed, which wakes every waiter),
and it is re-raised as ``PipelineError(stage, msg)`` with the original chained. Ctrl-C stops the
source and lets the frames in flight finish, so the sinks close a complete file (a second
Ctrl-C, or a drain longer than ``drain_timeout``, aborts). Every join has a timeout and no stage
thread outlives ``run()``.
"""

import threading
import time
from typing import Callable, List, Optional, Sequence, Tuple

from lanecam.pipeline.core.frames import FramePool
from lanecam.pipeline.core.ring import Policy, Ring
from lanecam.pipeline.core.stage import Control, Stage
from lanecam.pipeline.errors import LanecamError, PipelineError
from lanecam.pipeline.metrics import Metrics

__all__ = ["Runner", "chain", "MAIN_POLL_S"]

# how often the loop calls ``Stage.poll_main`` in the main thread: a GUI window repaints and
# answers its keys at this rate, so it stays at a few tens of ms
MAIN_POLL_S = 0.025


def chain(stages: Sequence[Stage], links: Sequence[Tuple[int, object]], pool: FramePool,
          names: Optional[Sequence[str]] = None) -> List[Ring]:
    """Join ``stages`` in a line: ``links[i] = (capacity, policy)`` between stage i and i+1.

    Dropped items return their slot to ``pool``. Returns the rings.
    """
    if len(links) != len(stages) - 1:
        raise ValueError(f"chain: {len(stages)} stages need {len(stages) - 1} links, "
                         f"got {len(links)}")
    rings = []
    for i, (capacity, policy) in enumerate(links):
        a, b = stages[i], stages[i + 1]
        ring = Ring(names[i] if names else f"{a.name}->{b.name}", capacity, Policy(policy),
                    on_drop=lambda item: pool.release(item[0]))
        a.outputs.append(ring)
        b.input = ring
        rings.append(ring)
    return rings


class Runner:
    """Runs wired stages until the stream ends, a stage fails, or the user stops it.

    Args:
        stages: the stages, source first; their ``input``/``outputs`` rings already set
            (``chain`` or by hand, for fan-out).
        rings: every ring (closed on abort; reported in the metrics).
        pool: the frame pool the stages share.
        metrics: where stages record; a new ``Metrics`` when None.
        join_timeout: seconds to wait for each thread after the run.
        drain_timeout: seconds the frames in flight get to finish after a graceful stop.
        error_drain_timeout: the same after a stage failed (downstream of the failure).
    """

    def __init__(self, stages: Sequence[Stage], rings: Sequence[Ring], pool: FramePool,
                 metrics: Optional[Metrics] = None, join_timeout: float = 5.0,
                 drain_timeout: float = 10.0, error_drain_timeout: float = 1.0):
        if not stages:
            raise ValueError("runner: no stages")
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"runner: stage names must be unique, got {names}")
        self.stages = list(stages)
        self.rings = list(rings)
        self.pool = pool
        self.metrics = metrics or Metrics()
        self.metrics.rings = self.rings
        self.control = Control()
        self.join_timeout = join_timeout
        self.drain_timeout = drain_timeout
        self.error_drain_timeout = error_drain_timeout
        self.interrupted = False
        self._error: Optional[Tuple[str, BaseException]] = None
        self._error_lock = threading.Lock()
        self._threads: List[threading.Thread] = []
        # the main loop waits on this event, not on Thread.join: a KeyboardInterrupt raised
        # inside join() can leave a live thread marked as stopped (CPython, before 3.13)
        self._all_done = threading.Event()
        self._running = 0
        if not any(s.counts_frames for s in self.stages):
            self.stages[-1].counts_frames = True
        for s in self.stages:
            s.pool, s.control, s.metrics = pool, self.control, self.metrics
            s.stats = self.metrics.stage(s.name)

    # ---- control from outside ---------------------------------------------------------------------
    def request_stop(self) -> None:
        """Graceful stop: the source stops, frames in flight finish, sinks close."""
        self.control.stop_source.set()

    def abort(self) -> None:
        """Stop now: wake every waiter (rings and pool closed)."""
        self.control.abort.set()
        for ring in self.rings:
            self._release(ring.close())
        self.pool.close()

    def _release(self, items) -> None:
        for item in items:  # frames still queued in a closed ring go back to the pool
            self.pool.release(item[0])

    # ---- threads ----------------------------------------------------------------------------------
    def _fail(self, stage: Stage, exc: BaseException) -> None:
        with self._error_lock:
            if self._error is None:
                self._error = (stage.name, exc)
        self.control.stop_source.set()  # the run loop aborts if the drain takes too long

    def _body(self, stage: Stage) -> None:
        try:
            try:
                stage.setup()
                stage.run()
            finally:
                # before teardown: downstream must not wait for a slow close (an encoder flush)
                stage.end_outputs()
                if stage.input is not None:
                    # nobody reads it any more: upstream must not wait on it
                    self._release(stage.input.close())
                stage.teardown()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the runner
            self._fail(stage, exc)
        finally:
            with self._error_lock:
                self._running -= 1
                if self._running == 0:
                    self._all_done.set()

    def run(self, on_tick: Optional[Callable[[Metrics], None]] = None,
            tick_interval: float = 0.5) -> Metrics:
        """Run to completion; returns the metrics.

        ``on_tick(metrics)`` is called from this (the calling) thread about every
        ``tick_interval`` seconds: progress bars and PERF lines live there, never in a stage.

        Raises:
            PipelineError: a stage failed (``stage`` names it; the original is chained) or a
                thread did not stop within the join timeout.
        """
        self.metrics.start()
        self._threads = [threading.Thread(target=self._body, args=(s,), name=f"lanecam-{s.name}",
                                          daemon=True) for s in self.stages]
        self._running = len(self._threads)
        for t in self._threads:
            t.start()
        drain_deadline = error_deadline = None
        next_tick = time.monotonic() + tick_interval
        while not self._all_done.is_set():
            try:
                self._all_done.wait(timeout=MAIN_POLL_S)
                self._poll_main()
                now = time.monotonic()
                if self._stop_wanted():
                    self.request_stop()
                if self.control.stop_source.is_set() and drain_deadline is None:
                    drain_deadline = now + self.drain_timeout
                if self._error is not None and error_deadline is None:
                    error_deadline = now + self.error_drain_timeout
                if any(d is not None and now > d for d in (drain_deadline, error_deadline)):
                    self.abort()
                if on_tick is not None and now >= next_tick:
                    next_tick = now + tick_interval
                    on_tick(self.metrics)
            except KeyboardInterrupt:
                self.interrupted = True
                if self.control.stop_source.is_set():
                    self.abort()  # second Ctrl-C: do not wait for the drain
                else:
                    self.request_stop()
        self.metrics.stop()
        try:
            self._join()
        finally:
            self._poll_main()  # the stages closed: main-thread resources (a window) go now
        if self._error is not None:
            stage, exc = self._error
            if isinstance(exc, PipelineError):
                raise exc
            msg = str(exc) if isinstance(exc, LanecamError) else f"{type(exc).__name__}: {exc}"
            raise PipelineError(stage, msg) from exc
        return self.metrics

    def _poll_main(self) -> None:
        """``Stage.poll_main`` of every stage, here in the main thread; a failure there fails
        the run like a failure in the stage's own thread."""
        for stage in self.stages:
            try:
                stage.poll_main()
            except Exception as exc:  # noqa: BLE001 - reported as PipelineError(stage)
                self._fail(stage, exc)

    def _stop_wanted(self) -> bool:
        """A stage asked to stop (its window was closed, ``q`` pressed)."""
        return any(stage.stop_requested() for stage in self.stages)

    def _join(self) -> None:
        deadline = time.monotonic() + self.join_timeout
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            self.abort()
            for t in self._threads:
                t.join(timeout=1.0)
            alive = [t.name for t in self._threads if t.is_alive()]
        if alive and self._error is None:
            raise PipelineError(alive[0].replace("lanecam-", ""),
                                f"did not stop within {self.join_timeout:g} s")
