"""Video files (``path``, ``file://path``) decoded by OpenCV's FFmpeg backend."""

import logging
import os
from typing import Optional

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import Pacer, ReadResult, ReadStatus, check_frame_size, copy_into
from lanecam.pipeline.sources.capture import CaptureSource, import_cv2, quiet_opencv
from lanecam.pipeline.sources.damage import SkipLog, probe_cut

__all__ = ["VideoFileSource"]

# Consecutive failed reads tolerated past the announced frame count before calling it the end.
# A failed read costs ~10 us at the end of a file, so this is cheap; inside damage each failed
# read consumes one lost frame, so the announced count bounds how long damage can last.
RETRY_MARGIN = 64
MAX_RETRIES = 200_000

log = logging.getLogger("lanecam.sources")


class VideoFileSource(CaptureSource):
    """Every frame of a video file, in order, as fast as the consumer takes them.

    Args:
        uri: the path (or ``file://`` URI) of the file.
        path: the resolved file path.
        realtime: pace frames at the file's own fps and behave as a live source (the
            pipeline then drops frames instead of waiting), to rehearse camera behaviour.

    ``frame_count``, ``fps`` and the size come from the container. ``open()`` decodes the first
    frame, so a file that is not a video, has no frames or lost its index (a cut-off mp4) is
    refused with an ``InputError`` naming it before the pipeline starts. ``ts`` is the stream
    position in seconds.

    Damage: a frame OpenCV cannot decode is skipped and counted, and reading goes on until
    the decoder delivers nothing more: ``skipped`` holds the ranges of frame positions lost
    (``skipped.ranges``, ``skipped.count``). ``ended_early`` is set only when the file is
    really cut short (``damage.probe_cut``), never because the container's frame count was
    an estimate. Both are reported by ``lanecam run`` (stderr, ``--stats``, exit 2).
    """

    def __init__(self, uri: str, path: str, realtime: bool = False):
        super().__init__(uri)
        self.path = path
        self.realtime = bool(realtime)
        self.is_live = self.realtime
        self._first: Optional[np.ndarray] = None
        self._index = 0
        self._position = 0  # frames consumed from the stream, skipped ones included
        self._pacer: Optional[Pacer] = None
        self.skipped = SkipLog()
        # set when the file ends before the frame count its container announced
        self.ended_early: Optional[str] = None

    def _open(self) -> None:
        path = self.path
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file (expected a video file)")
        if os.path.isdir(path):
            raise InputError(f"{path}: is a folder, expected a video file")
        if not os.access(path, os.R_OK):
            raise InputError(f"{path}: not readable (permission denied)")
        if os.path.getsize(path) == 0:
            raise InputError(f"{path}: empty file, expected a video")
        cv2 = self._cv2 = import_cv2("reading video files")
        with quiet_opencv(cv2):
            cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            raise InputError(f"{path}: not a readable video (unknown format, or a truncated "
                             "file whose index is missing)")
        self._cap = cap
        self._read_properties()
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        ok, first = cap.read()
        if not ok or first is None:
            self._close()
            raise InputError(f"{path}: no decodable frames (an empty, zero-frame or truncated "
                             "video)")
        if self.width <= 0 or self.height <= 0:
            self.height, self.width = first.shape[:2]
        try:
            check_frame_size(path, self.width, self.height)
        except InputError:
            self._close()
            raise
        # keep the probe frame rather than seeking back: seeking is inexact for many codecs
        self._first = first
        self._index = self._position = 0
        if not self.fps:
            log.warning("%s: the container has no frame rate; assuming 25 fps", path)
            self.fps = 25.0
        self._pacer = Pacer(self.fps) if self.realtime else None

    def _next_decodable(self, out) -> Optional[np.ndarray]:
        """The next frame OpenCV can decode, skipping (and logging) the ones it cannot;
        None at the end of the file."""
        announced = self.frame_count or 0
        limit = min(max(announced - self._position, 0) + RETRY_MARGIN, MAX_RETRIES)
        failed = []
        while len(failed) < limit:
            frame = self._grab(out)
            if frame is not None:
                # failures followed by a frame were damage, not the end
                for position in failed:
                    self.skipped.add(position)
                if failed:
                    log.warning("%s: skipped undecodable frames %d-%d", self.path,
                                failed[0], failed[-1])
                self._position += len(failed) + 1
                return frame
            failed.append(self._position + len(failed))
        return None

    def _read(self, out, timeout: float) -> ReadResult:
        if self._first is not None:
            frame, self._first = copy_into(self._first, out), None
            self._position += 1
        else:
            frame = self._next_decodable(out)
        if frame is None:
            self._check_cut()
            return ReadStatus.END, None, 0.0
        # the stream position, not the count of good frames: skipped frames keep their time
        ts = (self._position - 1) / self.fps
        self._index += 1
        if self._pacer is not None:
            self._pacer.wait()
        return ReadStatus.OK, frame, ts

    def _check_cut(self) -> None:
        """Set ``ended_early`` once when the file stopped decoding before its real end."""
        if self.ended_early is not None or not self.frame_count:
            return
        if self._position >= self.frame_count:
            return  # everything announced was consumed: nothing can be missing
        why = probe_cut(self.path, self._index, self.frame_count)
        if why:
            # not an exception: the frames before the cut are good and must reach the
            # sinks; the caller (``lanecam run``) reports it and exits non-zero at the end
            self.ended_early = f"{self.path}: {why}"
            log.info("%s", self.ended_early)
        else:
            self.ended_early = ""  # checked: whole (falsy, so callers see no problem)

    def _close(self) -> None:
        self._first = None
        super()._close()


def file_path(uri: str) -> str:
    """The path of a plain path or ``file://`` URI (``file:///abs`` or ``file://rel``)."""
    if uri.startswith("file://"):
        from urllib.parse import unquote

        return unquote(uri[len("file://"):])
    return uri


def open_video_file(uri: str, realtime: bool = False, **options) -> VideoFileSource:
    """Registry factory: ``VideoFileSource`` for a path or ``file://`` URI."""
    if options:
        raise InputError(f"{uri}: unknown option(s) {', '.join(sorted(options))} for a video "
                         "file; expected realtime")
    return VideoFileSource(uri, file_path(uri), realtime=realtime)
