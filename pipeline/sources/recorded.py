"""What MCAP files and ROS bags share as sources: choosing the image topic, probing the first
frame, the frame rate from the timestamps, reading every message in order.

A subclass opens its library's reader and lists the topics (``_open_reader``), and yields the
chosen topic's messages as ``(log_time_ns, ImageMessage)`` (``_messages``); everything else is
here, so both kinds of recording behave the same: lossless and ordered like a video file, each
frame with its recorded time (header stamp, else log time) in ``stamp_ns`` and ``ts``.
"""

import collections
import logging
import os
from dataclasses import dataclass
from typing import Deque, Dict, Iterator, Optional, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import Pacer, ReadResult, ReadStatus, Source, check_frame_size
from lanecam.pipeline.sources.capture import import_cv2
from lanecam.pipeline.sources.damage import SkipLog
from lanecam.pipeline.sources.image_msgs import (IMAGE_TYPES, ImageMessage, check_supported,
                                                decode_image, passthrough_format)

__all__ = ["RecordedSource", "TopicInfo", "FPS_PROBE", "DEFAULT_FPS"]

log = logging.getLogger("lanecam.sources")

# messages read ahead at open to measure the frame rate (the median interval); kept, not
# read twice. Few, because raw 720p messages are 2.7 MB each.
FPS_PROBE = 8
DEFAULT_FPS = 25.0


@dataclass(frozen=True)
class TopicInfo:
    """A topic of a recording: its message type and message count (None when unknown)."""

    msgtype: str
    count: Optional[int]


class RecordedSource(Source):
    """Base of the MCAP and ROS bag sources.

    Args:
        uri: what the user gave.
        path: the file or bag folder.
        topic: the image topic to read; None picks the only one.
        realtime: pace frames at the recording's frame rate and behave as a live source.

    Attributes (after ``open()``):
        topic: the topic read; topics: every topic with its ``TopicInfo``.
        stamp_ns: the recorded time of the last frame read, in integer nanoseconds (exact,
            unlike the float ``ts``); the pipeline copies it into ``FrameMeta.stamp_ns``.
        encoded: ``(format, bytes)`` of the last frame when it was recorded as a JPEG or PNG
            (an MCAP sink stores it as recorded instead of encoding it again), else None.
        skipped: messages that could not be decoded (damaged), by index on the topic.
        ended_early: set when the file turned out to be cut short (``lanecam run`` reports
            it and exits 2 after writing every frame before the cut).
    """

    kind = "recording"     # in messages: "no image topic in this <kind>"
    scheme = "file"        # the URI scheme that takes ?topic= (mcap, rosbag)
    expected = "a recording"

    def __init__(self, uri: str, path: str, topic: Optional[str] = None, realtime: bool = False):
        super().__init__(uri)
        self.path = path
        self.requested_topic = topic or None
        self.topic: Optional[str] = None
        self.topics: Dict[str, TopicInfo] = {}
        self.realtime = bool(realtime)
        self.is_live = self.realtime
        self.stamp_ns: Optional[int] = None
        self.encoded: Optional[Tuple[str, bytes]] = None
        self.skipped = SkipLog()
        self.ended_early: Optional[str] = None
        self.resized = 0
        self._cv2 = None
        self._messages_iter: Optional[Iterator[Tuple[int, ImageMessage]]] = None
        self._ahead: Deque[Tuple[int, ImageMessage]] = collections.deque()
        self._first: Optional[np.ndarray] = None
        self._index = 0  # messages consumed on the topic, damaged ones included
        self._pacer: Optional[Pacer] = None

    # -- subclasses ------------------------------------------------------------------------
    def _open_reader(self) -> None:
        """Open the library's reader and fill ``self.topics``."""
        raise NotImplementedError

    def _messages(self, topic: str) -> Iterator[Tuple[int, ImageMessage]]:
        """``(log_time_ns, ImageMessage)`` of ``topic`` in log-time order; sets
        ``ended_early`` and stops where the file is cut short."""
        raise NotImplementedError

    def _close_reader(self) -> None:
        pass

    # -- choosing the topic ------------------------------------------------------------------
    def _listing(self) -> str:
        return ", ".join(f"{name} ({info.msgtype})" for name, info in sorted(self.topics.items())
                         ) or "none"

    def _choose_topic(self) -> str:
        images = sorted(name for name, info in self.topics.items() if info.msgtype in IMAGE_TYPES)
        wanted = self.requested_topic
        if wanted is not None:
            if wanted not in self.topics:
                raise InputError(f"{self.path}: no topic {wanted!r}; image topics: "
                                 f"{', '.join(images) or 'none'}")
            if wanted not in images:
                raise InputError(f"{self.path}: topic {wanted} is {self.topics[wanted].msgtype}, "
                                 f"not an image (expected {', '.join(sorted(IMAGE_TYPES))})")
            return wanted
        if not images:
            raise InputError(f"{self.path}: no image topic in this {self.kind} (topics: "
                             f"{self._listing()}); expected sensor_msgs Image or "
                             "CompressedImage, or foxglove RawImage or CompressedImage")
        if len(images) > 1:
            raise InputError(f"{self.path}: {len(images)} image topics ({', '.join(images)}); "
                             f"choose one with --topic NAME or {self._topic_uri(images[0])}")
        return images[0]

    def _topic_uri(self, topic: str) -> str:
        return f"{self.scheme}://{self.path}?topic={topic}"

    # -- lifecycle ---------------------------------------------------------------------------
    def _open(self) -> None:
        path = self.path
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file or folder (expected {self.expected})")
        if not os.access(path, os.R_OK):
            raise InputError(f"{path}: not readable (permission denied)")
        self._cv2 = import_cv2(f"reading {self.kind}s")
        try:
            self._open_reader()
            self.topic = self._choose_topic()
            info = self.topics[self.topic]
            self.frame_count = info.count if info.count else None
            self._messages_iter = self._messages(self.topic)
            self._probe()
        except BaseException:
            self._close()
            raise
        self._pacer = Pacer(self.fps) if self.realtime else None

    def _pull(self) -> Optional[Tuple[int, ImageMessage]]:
        if self._ahead:
            return self._ahead.popleft()
        if self._messages_iter is None:
            return None
        return next(self._messages_iter, None)

    def _probe(self) -> None:
        """Decode the first decodable frame (size, supported encoding) and read a few
        messages ahead for the frame rate."""
        where = f"{self.path} topic {self.topic}"
        for _ in range(FPS_PROBE):
            item = next(self._messages_iter, None)
            if item is None:
                break
            self._ahead.append(item)
        if not self._ahead:
            cut = f" ({self.ended_early})" if self.ended_early else ""
            raise InputError(f"{where}: no messages{cut}")
        check_supported(self._ahead[0][1], where)
        times = [self._time_of(t, m) for t, m in self._ahead]
        steps = np.diff(np.asarray(times, np.int64))
        steps = steps[steps > 0]
        self.fps = float(1e9 / np.median(steps)) if steps.size else DEFAULT_FPS
        if not 0.1 <= self.fps <= 1000.0:
            log.warning("%s: the timestamps give %.3g fps; assuming %g", where, self.fps,
                        DEFAULT_FPS)
            self.fps = DEFAULT_FPS
        first = self._next_frame(None)
        if first is None:
            raise InputError(f"{where}: none of its {self._index} messages holds a decodable "
                             "image")
        self.height, self.width = first.shape[:2]
        check_frame_size(where, self.width, self.height)
        self._first = first

    @staticmethod
    def _time_of(log_time: int, msg: ImageMessage) -> int:
        return msg.stamp_ns if msg.stamp_ns is not None else int(log_time)

    def _next_frame(self, out) -> Optional[np.ndarray]:
        """The next decodable message as a frame (skipping and counting damaged ones);
        sets ``stamp_ns`` and ``encoded``. None at the end."""
        while True:
            item = self._pull()
            if item is None:
                return None
            log_time, msg = item
            index = self._index
            self._index += 1
            check_supported(msg, f"{self.path} topic {self.topic} message {index}")
            frame = decode_image(self._cv2, msg, out if self.width else None)
            if frame is None:
                self.skipped.add(index)
                log.warning("%s topic %s: message %d holds no decodable image; skipped",
                            self.path, self.topic, index)
                continue
            self.stamp_ns = self._time_of(log_time, msg)
            fmt = passthrough_format(msg)
            self.encoded = (fmt, bytes(msg.data)) if fmt else None
            return self._fit(frame)

    def _fit(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` at the first frame's size (a camera whose resolution changed mid-drive)."""
        if not self.width or frame.shape[:2] == (self.height, self.width):
            return frame
        if not self.resized:
            log.warning("%s topic %s: a %dx%d frame resized to %dx%d like the first (said once)",
                        self.path, self.topic, frame.shape[1], frame.shape[0], self.width,
                        self.height)
        self.resized += 1
        return self._cv2.resize(frame, (self.width, self.height),
                                interpolation=self._cv2.INTER_AREA)

    def _read(self, out, timeout: float) -> ReadResult:
        if self._first is not None:
            frame, self._first = self._first, None
            if out is not None and out.shape == frame.shape:
                np.copyto(out, frame)
                frame = out
        else:
            frame = self._next_frame(out)
        if frame is None:
            return ReadStatus.END, None, 0.0
        if self._pacer is not None:
            self._pacer.wait()
        return ReadStatus.OK, frame, self.stamp_ns / 1e9

    def _close(self) -> None:
        self._first = None
        self._ahead.clear()
        if self._messages_iter is not None:
            close = getattr(self._messages_iter, "close", None)
            self._messages_iter = None
            if close is not None:
                close()
        self._close_reader()
