"""The ``Source`` contract: open/read/close, a read status, and helpers every source shares."""

import enum
import time
from typing import TYPE_CHECKING, Iterator, Optional, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from lanecam.pipeline.core.frames import FrameMeta

__all__ = ["ReadStatus", "Source", "Pacer", "copy_into", "fits", "check_frame_size",
           "MIN_SIDE", "MAX_WIDTH", "MAX_HEIGHT"]

# Frame sizes the pipeline accepts: under 8 px there is nothing to detect (and the
# preprocessing divides the frame into cells); over 8K (7680x4320) a frame pool of a few
# frames already costs gigabytes, so a typo must be refused rather than allocated.
MIN_SIDE, MAX_WIDTH, MAX_HEIGHT = 8, 7680, 4320


def check_frame_size(what: str, width: int, height: int) -> None:
    """Raise a one-line ``InputError`` naming ``what`` (a file, URI) when ``width`` x
    ``height`` is outside MIN_SIDE..MAX_WIDTH x MIN_SIDE..MAX_HEIGHT."""
    if not (MIN_SIDE <= width <= MAX_WIDTH and MIN_SIDE <= height <= MAX_HEIGHT):
        raise InputError(f"{what}: frame size {width}x{height} is out of range (width "
                         f"{MIN_SIDE}..{MAX_WIDTH}, height {MIN_SIDE}..{MAX_HEIGHT})")


class ReadStatus(enum.Enum):
    """What ``Source.read`` got.

    OK: a frame. TIMEOUT: nothing new within the timeout (live sources, reconnecting streams).
    END: the source is exhausted (end of file, ``frames=N`` reached). ERROR: the source failed
    for good (a stream that gave up reconnecting, a camera that disappeared).
    """

    OK = "ok"
    TIMEOUT = "timeout"
    END = "end"
    ERROR = "error"


ReadResult = Tuple[ReadStatus, Optional[np.ndarray], float]


def fits(out: Optional[np.ndarray], height: int, width: int) -> bool:
    """True when ``out`` is a BGR uint8 buffer of ``height`` x ``width`` to decode into."""
    return out is not None and out.shape == (height, width, 3) and out.dtype == np.uint8


def copy_into(frame: np.ndarray, out: Optional[np.ndarray]) -> np.ndarray:
    """``frame`` copied into ``out`` when ``out`` has the same shape and dtype, else ``frame``.

    The caller (the pipeline's frame pool) owns ``out``; a size mismatch is not an error here:
    the caller checks whether it got its own buffer back.
    """
    if out is not None and out.shape == frame.shape and out.dtype == frame.dtype:
        np.copyto(out, frame)
        return out
    return frame


class Pacer:
    """Sleeps so that frame ``k`` is released no earlier than ``start + k / fps``.

    A late consumer is not made up for by skipping frames: the pacer just stops sleeping until
    it is on schedule again, like a camera whose frames are dropped downstream.
    """

    def __init__(self, fps: float):
        self.period = 1.0 / fps if fps and fps > 0 else 0.0
        self._start: Optional[float] = None
        self._count = 0

    def wait(self) -> float:
        """Sleep until the next frame is due; returns ``time.monotonic()`` at release."""
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + self._count * self.period
        if due > now:
            time.sleep(due - now)
            now = time.monotonic()
        elif now - due > 2 * self.period > 0:
            # far behind: restart the schedule so we do not burst frames to catch up
            self._start, self._count = now, 0
        self._count += 1
        return now


class Source:
    """A frame source opened by URI (see ``open_source``).

    Lifecycle: ``open()`` (or ``with``) acquires the device/file/connection and fills in
    ``width``, ``height``, ``fps`` and ``frame_count``; ``read()`` returns
    ``(status, frame, ts)``; ``close()`` releases everything and may be called twice.

    Attributes:
        uri: what the user asked for.
        is_live: True for cameras and streams (and paced sources): the pipeline drops frames
            instead of blocking them.
        width, height: frame size in pixels (valid after ``open()``).
        fps: nominal frame rate (float; 0.0 when unknown).
        frame_count: number of frames when known in advance (files, folders), else None.
        source_name: name of the frame returned by the last ``read()`` (image folders:
            the path relative to the folder, for TuSimple ``raw_file``), else None.
    """

    is_live = False

    def __init__(self, uri: str):
        self.uri = uri
        self.width = 0
        self.height = 0
        self.fps = 0.0
        self.frame_count: Optional[int] = None
        self.source_name: Optional[str] = None
        self._opened = False
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------
    def open(self) -> "Source":
        """Acquire the source; raises ``InputError`` naming the URI when it cannot be read."""
        if not self._opened:
            self._open()
            self._opened, self._closed = True, False
        return self

    def close(self) -> None:
        """Release the source (idempotent); later reads return END.

        Call it from the thread that reads, or after that thread stopped: OpenCV captures
        must not be released while another thread is inside ``read`` (stream sources are the
        exception, their own reader thread owns the capture).
        """
        if self._opened:
            self._opened, self._closed = False, True
            self._close()

    def read(self, out: Optional[np.ndarray] = None, timeout: float = 1.0) -> ReadResult:
        """Next frame as ``(status, frame, ts)``.

        Args:
            out: a caller-owned BGR uint8 (height, width, 3) buffer to decode into; used when
                its shape matches, and the returned frame is then ``out`` itself.
            timeout: seconds to wait for a frame before returning ``ReadStatus.TIMEOUT``.

        Returns:
            status, the frame (None unless OK) and its timestamp in seconds: the stream
            position for files, ``time.monotonic()`` at capture for live sources.
        """
        if not self._opened:
            if self._closed:
                return ReadStatus.END, None, 0.0
            raise InputError(f"{self.uri}: read() before open()")
        return self._read(out, timeout)

    def frames(self, timeout: float = 1.0) -> Iterator[Tuple[np.ndarray, "FrameMeta"]]:
        """Every frame until the end, as ``(frame, meta)``: a new BGR array each time and a
        ``FrameMeta`` (frame_id, source_ts, and for MCAP files and bags ``stamp_ns`` and the
        recorded ``encoded`` bytes). Opens the source if needed; ``for frame, meta in src``
        does the same. A live source's timeouts are waited out; a failed one raises
        ``LanecamError``.
        """
        from lanecam.pipeline.core.frames import FrameMeta
        from lanecam.pipeline.errors import LanecamError

        self.open()
        frame_id = 0
        while True:
            status, frame, ts = self.read(timeout=timeout)
            if status is ReadStatus.TIMEOUT:
                continue
            if status is ReadStatus.END:
                return
            if status is ReadStatus.ERROR:
                raise LanecamError(f"{self.uri}: the source failed while reading")
            meta = FrameMeta().reset(frame_id, time.monotonic(), ts, self.source_name,
                                     getattr(self, "stamp_ns", None),
                                     getattr(self, "encoded", None))
            frame_id += 1
            yield frame.copy(), meta

    def __iter__(self) -> Iterator[Tuple[np.ndarray, "FrameMeta"]]:
        return self.frames()

    def __enter__(self) -> "Source":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        size = f" {self.width}x{self.height}@{self.fps:g}" if self.width else ""
        return f"<{type(self).__name__} {self.uri!r}{size}>"

    # -- subclasses override these -----------------------------------------------------------
    def _open(self) -> None:
        raise NotImplementedError

    def _read(self, out: Optional[np.ndarray], timeout: float) -> ReadResult:
        raise NotImplementedError

    def _close(self) -> None:
        pass
