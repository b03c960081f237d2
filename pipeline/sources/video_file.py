"""Video files (``path``, ``file://path``) decoded by OpenCV's FFmpeg backend."""

import logging
import os
from typing import Optional

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import Pacer, ReadResult, ReadStatus, copy_into
from lanecam.pipeline.sources.capture import CaptureSource, import_cv2, quiet_opencv

__all__ = ["VideoFileSource"]

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
    """

    def __init__(self, uri: str, path: str, realtime: bool = False):
        super().__init__(uri)
        self.path = path
        self.realtime = bool(realtime)
        self.is_live = self.realtime
        self._first: Optional[np.ndarray] = None
        self._index = 0
        self._pacer: Optional[Pacer] = None
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
        # keep the probe frame rather than seeking back: seeking is inexact for many codecs
        self._first = first
        self._index = 0
        if not self.fps:
            log.warning("%s: the container has no frame rate; assuming 25 fps", path)
            self.fps = 25.0
        self._pacer = Pacer(self.fps) if self.realtime else None

    def _read(self, out, timeout: float) -> ReadResult:
        if self._first is not None:
            frame, self._first = copy_into(self._first, out), None
        else:
            frame = self._grab(out)
        if frame is None:
            if self.frame_count and self._index < self.frame_count:
                # not an exception: the frames before the cut are good and must reach the
                # sinks; the caller (``lanecam run``) reports it and exits non-zero at the end
                self.ended_early = (f"{self.path}: ended at frame {self._index} of "
                                    f"{self.frame_count} announced by the container "
                                    "(truncated file?)")
                log.info("%s", self.ended_early)
            return ReadStatus.END, None, 0.0
        ts = self._index / self.fps
        self._index += 1
        if self._pacer is not None:
            self._pacer.wait()
        return ReadStatus.OK, frame, ts

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
