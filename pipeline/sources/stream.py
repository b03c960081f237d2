"""Network streams (``rtsp://``, ``http(s)://``): a newest-frame reader thread, reconnects."""

import contextlib
import logging
import os
import threading
import time
from typing import Optional

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.options import STREAM_SETTINGS
from lanecam.pipeline.sources.base import ReadResult, ReadStatus, Source, check_frame_size
from lanecam.pipeline.sources.capture import import_cv2, quiet_opencv
from lanecam.pipeline.sources.reconnect import Backoff
from lanecam.pipeline.sources.stream_finite import FiniteStream
from lanecam.pipeline.sources.uri import parse_options

__all__ = ["StreamSource", "ffmpeg_low_latency_options"]

log = logging.getLogger("lanecam.sources")

# name -> (type, default): the timeouts from the one table of their defaults and bounds
STREAM_OPTIONS = {name: (float, spec[0]) for name, spec in STREAM_SETTINGS.items()}
STREAM_OPTIONS["transport"] = (str, "tcp")  # rtsp only: tcp (reliable) or udp

_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_env_lock = threading.Lock()


def ffmpeg_low_latency_options(uri: str, transport: str = "tcp", low_latency: bool = True) -> str:
    """FFmpeg demuxer options (OpenCV's ``key;value|key;value`` syntax) that turn off input
    buffering, plus the RTSP transport: TCP avoids the smeared frames of lost UDP packets.

    ``low_latency=False`` leaves buffering on (only the transport): what a finite clip needs,
    since ``nobuffer`` makes FFmpeg drop its first frames (an mp4 loses one, an HLS playlist
    half of them). HLS playlists (``.m3u8``) never get ``nobuffer``.
    """
    path = uri.split("?", 1)[0].lower()
    # HLS arrives in whole segments: nobuffer saves no latency there, it only loses frames
    hls = path.endswith((".m3u8", ".m3u"))
    opts = ["fflags;nobuffer", "flags;low_delay"] if low_latency and not hls else []
    if uri.lower().startswith(("rtsp://", "rtsps://")):
        opts.insert(0, f"rtsp_transport;{transport}")
    return "|".join(opts)


@contextlib.contextmanager
def _capture_options(value: str):
    """Set ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` for one open, unless the user set it themselves.
    OpenCV reads it on every FFmpeg open; the lock keeps two opens from mixing values. An
    empty ``value`` opens with none."""
    with _env_lock:
        if _ENV in os.environ or not value:
            yield
            return
        os.environ[_ENV] = value
        try:
            yield
        finally:
            os.environ.pop(_ENV, None)


class StreamSource(Source):
    """A network stream read by OpenCV's FFmpeg backend: live, or a finite clip.

    ``open()`` connects and reads the first frame; what FFmpeg knows about the stream's
    length decides how it is read:

    - Live (a camera over RTSP or MJPEG, an HLS playlist without ``#EXT-X-ENDLIST``: no
      known length): a background thread decodes continuously and keeps only the newest
      frame, so FFmpeg's buffers never fill with old frames and a slow consumer sees fresh
      ones (``skipped`` counts the frames it never saw). When the stream drops, the thread
      reconnects after a wait of 0.25 s doubling up to ``max_backoff``; the wait starts
      over only after a connection that held (``reconnect.STABLE_AFTER_S``), so a server
      that accepts and drops at once is not hammered. Meanwhile ``read`` returns TIMEOUT.
      ``ts`` is ``time.monotonic()`` when the frame was decoded. ``is_live`` is True.
    - Finite (an HLS VOD playlist, ``http://host/clip.mp4``: a known length): read like a
      video file (``FiniteStream``): every frame in order, ``frame_count`` set, ``is_live``
      False, ``END`` after the last frame; a dropped connection resumes where it stopped.
      ``ts`` is the position in seconds. ``ended_early`` describes a clip that ended short.

    Args:
        uri: ``rtsp://``, ``rtsps://``, ``http://`` or ``https://`` URL.
        open_timeout: ``open()`` raises ``InputError`` when no frame arrives within this.
        read_timeout: a connection silent this long is treated as dropped.
        max_backoff: the longest wait between reconnect attempts.
        give_up_after: after this many seconds without a frame ``read`` returns ERROR
            (0 = keep trying forever, as for a camera that will come back).
        transport: RTSP lower transport, ``tcp`` or ``udp``.

    Defaults and bounds of the four timeouts: ``lanecam.pipeline.options.STREAM_SETTINGS``.
    """

    is_live = True

    def __init__(self, uri: str, open_timeout: float = STREAM_SETTINGS["open_timeout"][0],
                 read_timeout: float = STREAM_SETTINGS["read_timeout"][0],
                 max_backoff: float = STREAM_SETTINGS["max_backoff"][0],
                 give_up_after: float = STREAM_SETTINGS["give_up_after"][0],
                 transport: str = "tcp"):
        super().__init__(uri)
        if transport not in ("tcp", "udp"):
            raise InputError(f"{uri}: transport must be tcp or udp, got {transport!r}")
        given = {"open_timeout": open_timeout, "read_timeout": read_timeout,
                 "max_backoff": max_backoff, "give_up_after": give_up_after}
        for name, value in given.items():
            low, high = STREAM_SETTINGS[name][1:3]
            if not low <= value <= high:
                raise InputError(f"{uri}: {name} must be between {low:g} and {high:g} s, "
                                 f"got {value:g}")
        self.open_timeout, self.read_timeout = open_timeout, read_timeout
        self.max_backoff, self.give_up_after = max_backoff, give_up_after
        self.transport = transport
        self._reconnects = 0
        self.frames_received = 0
        self.skipped = 0
        self._cv2 = None
        self._finite: Optional[FiniteStream] = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._front: Optional[np.ndarray] = None
        self._front_ts = 0.0
        self._seq = 0
        self._taken = 0
        self._failed = False

    @property
    def reconnects(self) -> int:
        """Connections made again after a drop."""
        return self._finite.reconnects if self._finite is not None else self._reconnects

    @property
    def ended_early(self) -> Optional[str]:
        """For a finite stream that ended short of its announced length: why; else None."""
        return self._finite.ended_early if self._finite is not None else None

    # -- connection ------------------------------------------------------------------------
    def _connect(self, timeout: float, low_latency: bool = True):
        """A ``VideoCapture`` connected within ``timeout`` seconds, or None (``low_latency``:
        see ``ffmpeg_low_latency_options``)."""
        cv2 = self._cv2
        ms = int(max(timeout, 0.1) * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms,
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout * 1000)]
        options = ffmpeg_low_latency_options(self.uri, self.transport, low_latency)
        with _capture_options(options), \
                quiet_opencv(cv2):
            cap = cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, params)
        if cap.isOpened():
            return cap
        cap.release()
        return None

    def _first_frame(self, low_latency: bool):
        """Connect and decode the first frame: ``(capture, frame, connected)``; the capture and
        frame are None when no frame came (``connected`` says whether FFmpeg got that far)."""
        cap = self._connect(self.open_timeout, low_latency)
        if cap is None:
            return None, None, False
        ok, first = cap.read()
        if ok and first is not None:
            return cap, first, True
        cap.release()
        return None, None, True

    def _no_video(self, start: float) -> InputError:
        return InputError(f"{self.uri}: no video from this stream (unreachable, refused or not a "
                          f"video; gave up after {time.monotonic() - start:.1f} s, limit "
                          f"{self.open_timeout:g} s)")

    def _open(self) -> None:
        self._cv2 = cv2 = import_cv2(f"reading {self.uri}")
        start = time.monotonic()
        cap, first, connected = self._first_frame(low_latency=True)
        # whether that connection ran without FFmpeg's buffering (never for HLS)
        low_latency = first is not None and (
            ffmpeg_low_latency_options(self.uri, self.transport, True)
            != ffmpeg_low_latency_options(self.uri, self.transport, False))
        if first is None and connected:
            # FFmpeg's nobuffer can drop every frame of a short clip: try once with buffering
            cap, first, _ = self._first_frame(low_latency=False)
        if first is None:
            raise self._no_video(start)
        self.height, self.width = first.shape[:2]
        try:
            check_frame_size(self.uri, self.width, self.height)
        except InputError:
            cap.release()
            raise
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        self.fps = fps if 0 < fps < 1000 else 30.0
        count = float(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        # FFmpeg knows the length of a clip (an mp4, a VOD playlist with #EXT-X-ENDLIST) and
        # not of a live stream (OpenCV then reports 0 or a huge negative number)
        self.is_live = not 0 < count < 1e9
        if not self.is_live:
            if low_latency:
                # a clip is read from its first frame on: connect again with FFmpeg's buffering
                cap.release()
                cap, first, _ = self._first_frame(low_latency=False)
                if first is None:
                    raise self._no_video(start)
                self.height, self.width = first.shape[:2]
            self.frame_count = int(count)
            self._finite = FiniteStream(
                self.uri, lambda timeout: self._connect(timeout, low_latency=False), cap, first,
                self.frame_count, self.fps, self.open_timeout, self.max_backoff,
                self.give_up_after, cv2)
            return
        self._finite = None
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
        backoff = Backoff(self.max_backoff)
        backoff.connected()
        delay, lost_at = 0.0, None  # lost_at: when the last frame came, while none comes
        try:
            while not self._stop.is_set():
                if cap is None:
                    if self._stop.wait(delay):
                        break
                    cap = self._connect(min(self.open_timeout, self.read_timeout))
                    if cap is None:
                        if self._gave_up(lost_at):
                            return
                        delay = backoff.next_delay()
                        continue
                    backoff.connected()
                    self._reconnects += 1
                    log.warning("%s: reconnected after %.1f s", self.uri,
                                time.monotonic() - lost_at)
                ok, frame = cap.read(back)
                if not ok or frame is None:
                    cap.release()
                    cap = None
                    lost_at = lost_at if lost_at is not None else time.monotonic()
                    if self._gave_up(lost_at):
                        return
                    # also after a reconnect that succeeded at once: a server that accepts
                    # and drops (or replays a short clip) waits longer each time
                    delay = backoff.next_delay()
                    log.warning("%s: stream dropped; reconnecting in %.2f s", self.uri, delay)
                    continue
                lost_at = None
                old = self._publish(frame)
                if frame is back:
                    back = old if old is not None else np.empty_like(frame)
        except Exception:  # noqa: BLE001 - a dead reader must not look like a quiet stream
            log.exception("%s: stream reader failed", self.uri)
            self._fail()
        finally:
            if cap is not None:
                cap.release()

    def _gave_up(self, lost_at: float) -> bool:
        """True (and the source failed) when no frame came for ``give_up_after`` seconds."""
        down = time.monotonic() - lost_at
        if not self.give_up_after or down <= self.give_up_after:
            return False
        log.error("%s: gave up after %.0f s without a frame", self.uri, down)
        self._fail()
        return True

    def _fail(self) -> None:
        with self._cond:
            self._failed = True
            self._cond.notify_all()

    # -- consumer side ---------------------------------------------------------------------
    def _read(self, out, timeout: float) -> ReadResult:
        if self._finite is not None:
            return self._finite.read(out, timeout)
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
        if self._finite is not None:
            self._finite.close()  # kept: its reconnects and ended_early stay readable
            return
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
