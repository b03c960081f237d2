"""Network streams (``rtsp://``, ``http(s)://``): a newest-frame reader thread, reconnects."""

import contextlib
import logging
import os
import threading
import time
from typing import Optional

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import ReadResult, ReadStatus, Source, check_frame_size
from lanecam.pipeline.sources.capture import import_cv2, quiet_opencv
from lanecam.pipeline.sources.uri import parse_options

__all__ = ["StreamSource", "ffmpeg_low_latency_options"]

log = logging.getLogger("lanecam.sources")

STREAM_OPTIONS = {
    "open_timeout": (float, 5.0),   # seconds to connect and get the first frame
    "read_timeout": (float, 5.0),   # a connection silent this long counts as dropped
    "max_backoff": (float, 4.0),    # cap of the exponential reconnect delay
    "give_up_after": (float, 0.0),  # seconds without a connection before ERROR; 0 = never
    "transport": (str, "tcp"),      # rtsp only: tcp (reliable) or udp
}

_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_env_lock = threading.Lock()


def ffmpeg_low_latency_options(uri: str, transport: str = "tcp") -> str:
    """FFmpeg demuxer options (OpenCV's ``key;value|key;value`` syntax) that turn off input
    buffering, plus the RTSP transport: TCP avoids the smeared frames of lost UDP packets."""
    opts = "fflags;nobuffer|flags;low_delay"
    if uri.lower().startswith(("rtsp://", "rtsps://")):
        opts = f"rtsp_transport;{transport}|" + opts
    return opts


@contextlib.contextmanager
def _capture_options(value: str):
    """Set ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` for one open, unless the user set it themselves.
    OpenCV reads it on every FFmpeg open; the lock keeps two opens from mixing values."""
    with _env_lock:
        if _ENV in os.environ:
            yield
            return
        os.environ[_ENV] = value
        try:
            yield
        finally:
            os.environ.pop(_ENV, None)


class StreamSource(Source):
    """A live network stream read by OpenCV's FFmpeg backend in a background thread.

    The reader thread decodes continuously and keeps only the newest frame, so FFmpeg's
    buffers never fill with old frames and a slow consumer sees fresh ones (``skipped``
    counts the frames it never saw). When the stream drops, the thread reconnects with
    exponential backoff (0.25 s doubling up to ``max_backoff``); meanwhile ``read`` returns
    TIMEOUT. ``ts`` is ``time.monotonic()`` when the frame was decoded.

    Args:
        uri: ``rtsp://``, ``rtsps://``, ``http://`` or ``https://`` URL.
        open_timeout: ``open()`` raises ``InputError`` when no frame arrives within this.
        read_timeout: a connection silent this long is treated as dropped.
        max_backoff: the longest wait between reconnect attempts.
        give_up_after: after this many seconds disconnected ``read`` returns ERROR
            (0 = keep trying forever, as for a camera that will come back).
        transport: RTSP lower transport, ``tcp`` or ``udp``.
    """

    is_live = True

    def __init__(self, uri: str, open_timeout: float = 5.0, read_timeout: float = 5.0,
                 max_backoff: float = 4.0, give_up_after: float = 0.0, transport: str = "tcp"):
        super().__init__(uri)
        if transport not in ("tcp", "udp"):
            raise InputError(f"{uri}: transport must be tcp or udp, got {transport!r}")
        if open_timeout <= 0 or read_timeout <= 0:
            raise InputError(f"{uri}: open_timeout and read_timeout must be > 0")
        self.open_timeout, self.read_timeout = open_timeout, read_timeout
        self.max_backoff, self.give_up_after = max(max_backoff, 0.25), give_up_after
        self.transport = transport
        self.reconnects = 0
        self.frames_received = 0
        self.skipped = 0
        self._cv2 = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._front: Optional[np.ndarray] = None
        self._front_ts = 0.0
        self._seq = 0
        self._taken = 0
        self._failed = False

    # -- connection ------------------------------------------------------------------------
    def _connect(self, timeout: float):
        """A ``VideoCapture`` connected within ``timeout`` seconds, or None."""
        cv2 = self._cv2
        ms = int(max(timeout, 0.1) * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms,
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout * 1000)]
        with _capture_options(ffmpeg_low_latency_options(self.uri, self.transport)), \
                quiet_opencv(cv2):
            cap = cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, params)
        if cap.isOpened():
            return cap
        cap.release()
        return None

    def _open(self) -> None:
        self._cv2 = import_cv2(f"reading {self.uri}")
        start = time.monotonic()
        cap = self._connect(self.open_timeout)
        ok, first = (cap.read() if cap is not None else (False, None))
        if not ok or first is None:
            if cap is not None:
                cap.release()
            raise InputError(f"{self.uri}: no video from this stream (unreachable, refused or "
                             f"not a video; gave up after {time.monotonic() - start:.1f} s, "
                             f"limit {self.open_timeout:g} s)")
        self.height, self.width = first.shape[:2]
        try:
            check_frame_size(self.uri, self.width, self.height)
        except InputError:
            cap.release()
            raise
        fps = float(cap.get(self._cv2.CAP_PROP_FPS))
        self.fps = fps if 0 < fps < 1000 else 30.0
        self._stop.clear()
        self._failed = False
        self._publish(first)
        self._thread = threading.Thread(target=self._run, args=(cap,),
                                        name=f"stream-reader {self.uri}", daemon=True)
        self._thread.start()

    # -- reader thread ---------------------------------------------------------------------
    def _publish(self, frame: np.ndarray) -> Optional[np.ndarray]:
        """Make ``frame`` the newest; returns the previous newest buffer, which the reader may
        decode into next (None when there is none of the right size)."""
        if frame.shape[:2] != (self.height, self.width):
            # the camera changed resolution across a reconnect: keep the size sinks opened with
            frame = self._cv2.resize(frame, (self.width, self.height),
                                     interpolation=self._cv2.INTER_AREA)
        with self._cond:
            if self._seq > self._taken:
                self.skipped += 1
            old, self._front = self._front, frame
            self._front_ts = time.monotonic()
            self._seq += 1
            self.frames_received += 1
            self._cond.notify_all()
        return old if old is not None and old.shape == frame.shape else None

    def _run(self, cap) -> None:
        back = np.empty((self.height, self.width, 3), np.uint8)
        backoff, lost_at = 0.25, None
        try:
            while not self._stop.is_set():
                if cap is None:
                    cap = self._connect(min(self.open_timeout, self.read_timeout))
                    if cap is None:
                        down = time.monotonic() - lost_at
                        if self.give_up_after and down > self.give_up_after:
                            log.error("%s: gave up after %.0f s without a connection",
                                      self.uri, down)
                            with self._cond:
                                self._failed = True
                                self._cond.notify_all()
                            return
                        self._stop.wait(backoff)
                        backoff = min(backoff * 2, self.max_backoff)
                        continue
                    self.reconnects += 1
                    log.warning("%s: reconnected after %.1f s", self.uri,
                                time.monotonic() - lost_at)
                    backoff, lost_at = 0.25, None
                ok, frame = cap.read(back)
                if not ok or frame is None:
                    cap.release()
                    cap, lost_at = None, time.monotonic()
                    log.warning("%s: stream dropped; reconnecting", self.uri)
                    continue
                old = self._publish(frame)
                if frame is back:
                    back = old if old is not None else np.empty_like(frame)
        except Exception:  # noqa: BLE001 - a dead reader must not look like a quiet stream
            log.exception("%s: stream reader failed", self.uri)
            with self._cond:
                self._failed = True
                self._cond.notify_all()
        finally:
            if cap is not None:
                cap.release()

    # -- consumer side ---------------------------------------------------------------------
    def _read(self, out, timeout: float) -> ReadResult:
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while self._seq == self._taken:
                if self._failed:
                    return ReadStatus.ERROR, None, 0.0
                left = deadline - time.monotonic()
                if left <= 0:
                    return ReadStatus.TIMEOUT, None, 0.0
                self._cond.wait(left)
            self._taken = self._seq
            # copied under the lock: the reader swaps buffers, never writes the front one
            if out is not None and out.shape == self._front.shape:
                np.copyto(out, self._front)
                frame = out
            else:
                frame = self._front.copy()
            return ReadStatus.OK, frame, self._front_ts

    def _close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            # the reader releases its capture itself (releasing it here, mid-read, would crash);
            # a read blocked on a dead connection ends within read_timeout
            self._thread.join(self.read_timeout + 1.0)
            if self._thread.is_alive():
                log.warning("%s: reader thread still blocked in FFmpeg; leaving it (daemon)",
                            self.uri)
            self._thread = None


def open_stream(uri: str, **options) -> StreamSource:
    """Registry factory for ``rtsp://``, ``rtsps://``, ``http://``, ``https://`` URLs.

    Options (keywords; not taken from the URL's query, which belongs to the server):
    open_timeout, read_timeout, max_backoff, give_up_after, transport.
    """
    values = parse_options(uri, "", options, STREAM_OPTIONS)
    return StreamSource(uri, **values)
