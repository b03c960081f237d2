"""Finite network streams (an HLS VOD playlist ending in ``#EXT-X-ENDLIST``, ``http://host/clip.mp4``):
read like a remote file, every frame in order; the end of the clip is the end of the stream."""

import logging
import time
from typing import Callable, Optional

import numpy as np

from lanecam.pipeline.sources.base import ReadResult, ReadStatus, copy_into, fits
from lanecam.pipeline.sources.reconnect import Backoff

__all__ = ["FiniteStream"]

log = logging.getLogger("lanecam.sources")


class FiniteStream:
    """Reads a finite stream in the caller's thread, resuming a dropped connection in place.

    A finite stream announces its length (FFmpeg knows its duration), so it is read like a
    video file: lossless, as fast as the consumer takes frames, and ``END`` when the clip is
    over, never a reconnect that would replay it from the start. A read that fails before the
    announced frame count is a dropped connection: it reconnects (with backoff; ``read``
    returns TIMEOUT meanwhile), seeks to the next frame and goes on. When the server has
    nothing at that position the stream is over: ``END``, and ``ended_early`` says so when
    that is well short of the announced length (more than a second of frames or 2 %, which
    duration estimates can be off by).

    Args:
        uri: the stream's URL, for messages.
        connect: ``connect(timeout)`` -> an opened ``VideoCapture`` or None.
        cap: the connected capture whose first frame was read.
        first: that frame, returned by the first ``read``.
        frame_count: the announced number of frames (> 0).
        fps: frames per second (frame timestamps are ``position / fps``, like a file's).
        open_timeout: the connect timeout of each reconnect attempt.
        max_backoff: the longest wait between reconnect attempts.
        give_up_after: seconds without a frame after which ``read`` returns ERROR (0: never).
        cv2: the OpenCV module (seeking; a frame of another size, after a variant switch,
            is resized to the first frame's).

    Attributes:
        position: frames returned so far.
        reconnects: connections resumed.
        ended_early: None, or a one-line description of a stream that ended short.
    """

    def __init__(self, uri: str, connect: Callable[[float], object], cap, first: np.ndarray,
                 frame_count: int, fps: float, open_timeout: float, max_backoff: float,
                 give_up_after: float, cv2):
        self.uri = uri
        self._connect = connect
        self._cap = cap
        self._first: Optional[np.ndarray] = first
        self.height, self.width = first.shape[:2]
        self.frame_count, self.fps = int(frame_count), fps
        self.open_timeout, self.give_up_after = open_timeout, give_up_after
        self._cv2 = cv2
        self.position = 0
        self.reconnects = 0
        self.ended_early: Optional[str] = None
        self._backoff = Backoff(max_backoff)
        self._backoff.connected()
        self._lost_at: Optional[float] = None
        self._retry_at = 0.0
        self._done = False

    def read(self, out: Optional[np.ndarray] = None, timeout: float = 1.0) -> ReadResult:
        """The next frame: OK, TIMEOUT while reconnecting, END after the last, or ERROR."""
        if self._first is not None:
            frame, self._first = copy_into(self._first, out), None
            return self._ok(frame)
        if self._done:
            return ReadStatus.END, None, 0.0
        if self._cap is not None:
            frame = self._grab(out)
            if frame is not None:
                return self._ok(frame)
            self._release()
            if self.position >= self.frame_count:
                return self._end()
            # short of the announced end: a dropped connection, or a length that was an estimate
            now = time.monotonic()
            self._lost_at = now
            self._retry_at = now + self._backoff.next_delay()
            log.warning("%s: stream stopped at frame %d of %d; reconnecting to go on from there",
                        self.uri, self.position, self.frame_count)
        return self._resume(out, timeout)

    def _resume(self, out, timeout: float) -> ReadResult:
        now = time.monotonic()
        if now < self._retry_at:
            # sleep at most ``timeout``: the caller checks its stop flag between reads
            time.sleep(min(max(timeout, 0.0), self._retry_at - now))
            if time.monotonic() < self._retry_at:
                return ReadStatus.TIMEOUT, None, 0.0
        cap = self._connect(self.open_timeout)
        if cap is None:
            down = time.monotonic() - self._lost_at
            if self.give_up_after and down > self.give_up_after:
                log.error("%s: gave up after %.0f s without a connection", self.uri, down)
                self._done = True
                return ReadStatus.ERROR, None, 0.0
            self._retry_at = time.monotonic() + self._backoff.next_delay()
            return ReadStatus.TIMEOUT, None, 0.0
        self._backoff.connected()
        self._cap = cap
        if not self._seek(self.position):
            # starting again from frame 0 would replay the clip: stop, and say why
            self.ended_early = (f"{self.uri}: the connection dropped at frame {self.position} "
                                f"of {self.frame_count} and the server cannot resume there "
                                "(no seeking)")
            return self._end()
        frame = self._grab(out)
        if frame is None:
            # the server has nothing at this position: the clip is over
            short = self.frame_count - self.position
            if short > max(int(round(self.fps)), self.frame_count // 50):
                self.ended_early = (f"{self.uri}: the stream ended at frame {self.position} "
                                    f"of the {self.frame_count} it announced")
            return self._end()
        self.reconnects += 1
        log.warning("%s: resumed at frame %d after %.1f s", self.uri, self.position,
                    time.monotonic() - self._lost_at)
        self._lost_at = None
        return self._ok(frame)

    def _seek(self, position: int) -> bool:
        prop = self._cv2.CAP_PROP_POS_FRAMES
        self._cap.set(prop, position)
        return int(round(self._cap.get(prop))) == position

    def _grab(self, out) -> Optional[np.ndarray]:
        if fits(out, self.height, self.width):
            ok, frame = self._cap.read(out)
        else:
            ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        if frame.shape[:2] != (self.height, self.width):
            frame = copy_into(self._cv2.resize(frame, (self.width, self.height),
                                               interpolation=self._cv2.INTER_AREA), out)
        return frame

    def _ok(self, frame: np.ndarray) -> ReadResult:
        ts = self.position / self.fps if self.fps > 0 else 0.0
        self.position += 1
        return ReadStatus.OK, frame, ts

    def _end(self) -> ReadResult:
        self._release()
        self._done = True
        return ReadStatus.END, None, 0.0

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        """Release the connection (idempotent)."""
        self._release()
        self._first = None
        self._done = True
