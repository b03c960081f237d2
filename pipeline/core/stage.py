"""Stages: one thread each, reading ``(slot, FrameMeta)`` from a ring and passing it on.

A ``Stage`` subclass overrides ``setup`` / ``process`` / ``teardown``; the loop, the
timeouts, the forwarding (fan-out with shared slots) and the end-of-stream marker are here.
``SourceStage`` is the head of the pipeline: it takes free slots from the pool, reads frames
into them and counts frame ids. Every wait has a timeout, so a stage notices the runner's
``abort`` event within a fraction of a second.
"""

import threading
import time
from typing import List, Optional

from lanecam.pipeline.core.frames import FramePool
from lanecam.pipeline.core.ring import CLOSED, END, TIMEOUT, Ring
from lanecam.pipeline.errors import LanecamError
from lanecam.pipeline.metrics import LatencyStats, Metrics
from lanecam.pipeline.sources.base import ReadStatus

__all__ = ["Control", "Stage", "SourceStage", "POLL_S"]

POLL_S = 0.1  # how often a waiting stage looks at the control events


class Control:
    """Events shared by the runner and its stages.

    Attributes:
        stop_source: graceful stop (Ctrl-C, window closed): the source stops reading and the
            frames in flight are finished.
        abort: stop now (a stage failed, or the graceful stop took too long).
    """

    def __init__(self):
        self.stop_source = threading.Event()
        self.abort = threading.Event()


class Stage:
    """One pipeline stage running in its own thread.

    Subclasses override:
        setup(): in the stage's thread, before the first frame (open an engine here).
        process(slot, meta) -> bool: work on the slot's buffers; False drops the frame
            (its slot goes back to the pool) instead of forwarding it.
        teardown(): in the stage's thread, always, after the end marker went downstream.

    Attributes set by the runner: ``input`` (a Ring, None for sources), ``outputs`` (rings;
    none for the last stage, which returns the slot), ``pool``, ``control``, ``stats``,
    ``metrics``. ``counts_frames`` marks the stage whose finished frames count as the
    pipeline's output (end-to-end latency, FPS).
    """

    counts_frames = False

    def __init__(self, name: str):
        self.name = name
        self.input: Optional[Ring] = None
        self.outputs: List[Ring] = []
        self.pool: Optional[FramePool] = None
        self.control: Optional[Control] = None
        self.metrics: Optional[Metrics] = None
        self.stats: Optional[LatencyStats] = None

    # ---- overridable --------------------------------------------------------------------------
    def setup(self) -> None:
        pass

    def process(self, slot: int, meta) -> bool:
        return True

    def teardown(self) -> None:
        pass

    def stop_requested(self) -> bool:
        """True when the stage asks the runner to end the run early (default: never)."""
        return False

    def poll_main(self) -> None:
        """Work that must run in the main thread (a GUI window's events): the runner calls it
        from its loop every ``MAIN_POLL_S`` and once after the threads stopped. Keep it short;
        default: nothing."""

    # ---- the thread body ----------------------------------------------------------------------
    def run(self) -> None:
        """Loop until the input ends or the run is aborted (the runner calls setup/teardown)."""
        abort = self.control.abort
        while not abort.is_set():
            item = self.input.get(timeout=POLL_S)
            if item is TIMEOUT:
                continue
            if item is END or item is CLOSED:
                return
            slot, meta = item
            t0 = time.monotonic()
            try:
                keep = self.process(slot, meta)
            except BaseException:
                self.pool.release(slot)
                raise
            t1 = time.monotonic()
            self.stats.record(t1 - t0)
            meta.stage_ts[self.name] = t1
            if self.counts_frames:
                self.metrics.frame_done(meta, t1)
            if keep is False:
                self.pool.release(slot)
            elif not self.forward(slot, meta):
                return  # downstream is gone: the runner closes our input, upstream follows

    def forward(self, slot: int, meta) -> bool:
        """Hand the slot to every output ring (the last stage returns it to the pool).

        With several outputs the slot is shared, and a ring that drops it or refuses it
        (aborted run) releases that share. Returns False when the run is aborted or no output took it.
        """
        if not self.outputs:
            self.pool.release(slot)
            return True
        if len(self.outputs) > 1:
            self.pool.share(slot, len(self.outputs) - 1)
        delivered = 0
        for ring in self.outputs:
            if self._put(ring, (slot, meta)):
                delivered += 1
            else:
                self.pool.release(slot)
        return delivered > 0 and not self.control.abort.is_set()

    def _put(self, ring: Ring, item) -> bool:
        while True:
            if ring.put(item, timeout=POLL_S):
                return True
            if self.control.abort.is_set() or ring.closed or ring.ended:
                return False

    def end_outputs(self) -> None:
        """Send the end-of-stream marker downstream (the runner calls it in ``finally``)."""
        for ring in self.outputs:
            ring.end()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class SourceStage(Stage):
    """Reads frames from a ``lanecam.pipeline.sources.Source`` into pooled buffers.

    Args:
        source: an OPENED source (opened by the caller so that bad input is reported before
            any thread starts); it is closed in this stage's thread at teardown.
        name: stage name.
        close_source: close the source at teardown.

    A read that returns ``TIMEOUT`` is retried (a live stream reconnecting); ``ERROR`` fails
    the stage; ``END`` ends the stream. The capture timestamp is the source's own for live
    sources (the moment the frame was grabbed) and the read time for files.
    """

    def __init__(self, source, name: str = "source", close_source: bool = True):
        super().__init__(name)
        self.source = source
        self.close_source = close_source
        self.frames_read = 0

    def run(self) -> None:
        control, pool, src = self.control, self.pool, self.source
        live = bool(getattr(src, "is_live", False))
        while not (control.stop_source.is_set() or control.abort.is_set()):
            slot = pool.acquire(timeout=POLL_S)
            if slot is None:
                continue
            buf = pool.frames[slot]
            t0 = time.monotonic()
            try:
                status, frame, ts = src.read(out=buf, timeout=0.5)
            except BaseException:
                pool.release(slot)
                raise
            if status is not ReadStatus.OK:
                pool.release(slot)
                if status is ReadStatus.TIMEOUT:
                    continue
                if status is ReadStatus.END:
                    return
                raise LanecamError(f"{getattr(src, 'uri', src)}: the source failed while reading")
            if frame is not buf:
                if frame.shape != buf.shape:
                    pool.release(slot)
                    raise LanecamError(f"{getattr(src, 'uri', src)}: frame size changed from "
                                       f"{buf.shape[1]}x{buf.shape[0]} to "
                                       f"{frame.shape[1]}x{frame.shape[0]} mid-stream")
                buf[...] = frame
            now = time.monotonic()
            # live sources stamp the grab time themselves (monotonic); trust it when plausible
            capture = ts if live and 0.0 <= now - ts < 10.0 else now
            pool.slots[slot].result = None
            meta = pool.metas[slot].reset(self.frames_read, capture, ts,
                                          getattr(src, "source_name", None),
                                          getattr(src, "stamp_ns", None),
                                          getattr(src, "encoded", None))
            self.frames_read += 1
            self.stats.record(now - t0)
            meta.stage_ts[self.name] = now
            if not self.forward(slot, meta):
                return

    def teardown(self) -> None:
        if self.close_source:
            self.source.close()
