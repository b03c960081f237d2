"""OpenCV ``VideoCapture`` helpers shared by the file, camera, stream and GStreamer sources."""

import contextlib
import os
import time
from typing import Optional

import numpy as np

from lanecam.pipeline.errors import InputError, LanecamError, MissingDependencyError
from lanecam.pipeline.sources.base import ReadResult, ReadStatus, Source, fits

__all__ = ["import_cv2", "quiet_opencv", "has_gstreamer", "require_gstreamer", "CaptureSource"]

# FFmpeg's own log lines ("Stream ends prematurely", "Connection refused") would reach the
# user's terminal next to our one-line errors; a user can still turn them on.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class OpenCVMissingError(MissingDependencyError):
    """OpenCV is a base dependency, not an extra: name the package to install instead."""

    def __init__(self, purpose: str):
        self.module, self.extra = "cv2", ""
        LanecamError.__init__(
            self, f"cv2 (OpenCV) is not installed (needed for {purpose}): pip install "
                  "opencv-python-headless (on a Jetson use the system python3-opencv)")


def import_cv2(purpose: str = "video input"):
    """``cv2`` or a one-line error saying how to install it."""
    try:
        import cv2
    except ImportError:
        raise OpenCVMissingError(purpose) from None
    return cv2


@contextlib.contextmanager
def quiet_opencv(cv2):
    """Silence OpenCV's own warnings (``can't open camera by index``) while we try something
    whose failure we report ourselves."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def has_gstreamer(cv2) -> bool:
    """True when this OpenCV build has the GStreamer video I/O backend."""
    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GStreamer:"):
            return "YES" in line.split(":", 1)[1]
    return False


def require_gstreamer(cv2, uri: str) -> None:
    """Raise ``InputError`` for ``uri`` when OpenCV was built without GStreamer."""
    if not has_gstreamer(cv2):
        raise InputError(
            f"{uri}: needs OpenCV built with GStreamer, but this OpenCV {cv2.__version__} has "
            "none (cv2.getBuildInformation(): GStreamer NO); on a Jetson use the system OpenCV "
            "(apt python3-opencv), not the pip wheel")


class CaptureSource(Source):
    """A ``Source`` reading straight from a ``cv2.VideoCapture`` in the caller's thread.

    Subclasses build the capture in ``_make_capture`` and may check it in ``_check``.
    ``read(out=...)`` decodes straight into the caller's buffer when its shape matches.

    ``ends``: whether the capture stops by itself (a file, a GStreamer pipeline with
    ``num-buffers``): a read that gets no frame is then END; otherwise (a camera) it is
    ERROR, the device failed.
    """

    is_live = True
    ends = False

    def __init__(self, uri: str):
        super().__init__(uri)
        self._cap = None
        self._cv2 = None

    def _make_capture(self, cv2):
        raise NotImplementedError

    def _describe_failure(self) -> str:
        return f"{self.uri}: could not be opened"

    def _open(self) -> None:
        cv2 = self._cv2 = import_cv2(f"reading {self.uri}")
        with quiet_opencv(cv2):
            cap = self._make_capture(cv2)
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise InputError(self._describe_failure())
        self._cap = cap
        self._read_properties()

    def _read_properties(self) -> None:
        cv2, cap = self._cv2, self._cap
        self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        self.fps = fps if 0 < fps < 1000 else 0.0

    def _grab(self, out) -> Optional[np.ndarray]:
        """Decode the next frame (into ``out`` when it fits); None on failure."""
        if fits(out, self.height, self.width):
            ok, frame = self._cap.read(out)
        else:
            ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def _read(self, out, timeout: float) -> ReadResult:
        frame = self._grab(out)
        if frame is None:
            # a camera that stops delivering has failed (unplugged); a capture that ends by
            # itself (a filesrc pipeline, num-buffers=N) has ended, live or not
            return (ReadStatus.END if self.ends else ReadStatus.ERROR), None, 0.0
        return ReadStatus.OK, frame, time.monotonic()

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
