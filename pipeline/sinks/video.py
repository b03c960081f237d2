"""Video files: H.264 (libx264, yuv420p) through PyAV when installed, else OpenCV's MPEG-4."""

import logging
import os
from fractions import Fraction
from typing import Dict, Optional

import numpy as np

from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.lazy import require
from lanecam.pipeline.outputs import PartialFile
from lanecam.pipeline.sinks.base import Sink

__all__ = ["VideoFileSink"]

log = logging.getLogger("lanecam.sinks")

_H264 = ("libx264", "h264")


def _av_with_x264():
    """PyAV when it is installed and its FFmpeg has libx264, else None."""
    try:
        import av
    except ImportError:
        return None
    return av if "libx264" in av.codecs_available else None


def frame_rate(fps: float) -> Fraction:
    """``fps`` as the exact fraction a container wants (29.97 -> 2997/100, 25.0 -> 25)."""
    if not fps or fps <= 0:
        raise InputError(f"video output: frame rate must be > 0, got {fps}")
    return Fraction(fps).limit_denominator(1001)


class VideoFileSink(Sink):
    """Writes every frame to a video file with the source's size and frame rate.

    Args:
        path: output file (``.mp4`` recommended; its folder must exist).
        codec: ``"auto"`` (H.264 via PyAV if available, else OpenCV ``mp4v``), ``"libx264"``
            / ``"h264"`` (needs PyAV: ``lanecam[video]``), or a FourCC for OpenCV (``"mp4v"``,
            ``"MJPG"``...).
        crf, preset: libx264 quality (lower crf = better, 23 default) and speed preset.

    Odd sizes are padded by one black row/column (4:2:0 video needs even sizes).
    H.264 output is yuv420p, which browsers and phones play. The BGR frame is converted to
    I420 with OpenCV and handed to the encoder without another copy; colour conversion and
    encoding run in C without the GIL. ``codec_used`` (and ``describe()``) says which codec
    was picked; it is also logged. ``close()`` flushes the encoder and finishes the container,
    so the file plays after an interrupted run.
    """

    name = "video"

    def __init__(self, path, codec: str = "auto", crf: int = 23, preset: str = "veryfast"):
        super().__init__()
        self.path = str(path)
        self.codec = codec
        self.crf, self.preset = crf, preset
        self.codec_used = ""
        self._container = None
        self._stream = None
        self._writer = None
        self._yuv: Optional[np.ndarray] = None
        self._av = None
        self._cv2 = None
        self._pad: Optional[np.ndarray] = None
        self._ew = self._eh = 0

    # -- choosing ---------------------------------------------------------------------------
    def _choose(self) -> str:
        """``"av"`` or ``"opencv"`` for the requested codec."""
        if self.codec in _H264:
            require("av", "video", "H.264 video output")
            if _av_with_x264() is None:
                raise LanecamError(f"{self.path}: this PyAV's FFmpeg has no libx264 encoder")
            return "av"
        if self.codec == "auto":
            return "av" if _av_with_x264() is not None else "opencv"
        if len(self.codec) != 4:
            raise InputError(f"{self.path}: codec {self.codec!r}: expected auto, libx264, h264 "
                             "or a 4-letter FourCC such as mp4v")
        return "opencv"

    def _open(self) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise InputError(f"{self.path}: output folder {folder} does not exist")
        if os.path.isdir(self.path):
            raise InputError(f"{self.path}: is a folder, expected a video file name")
        self.partial = PartialFile(self.path, "-o")
        self._file = str(self.partial.path)
        rate = frame_rate(self.fps)
        # 4:2:0 video needs even sizes (FFmpeg would silently crop an odd one): pad instead
        self._ew, self._eh = self.width + self.width % 2, self.height + self.height % 2
        self._pad = (np.zeros((self._eh, self._ew, 3), np.uint8)
                     if (self._ew, self._eh) != (self.width, self.height) else None)
        if self._choose() == "av":
            self._open_av(rate)
        else:
            self._open_opencv()
        log.info("%s", self.describe())

    def _open_av(self, rate: Fraction) -> None:
        av = self._av = _av_with_x264()
        import cv2

        self._cv2 = cv2
        try:
            self._container = av.open(self._file, mode="w", options={"movflags": "+faststart"}
                                      if self.path.lower().endswith((".mp4", ".mov")) else {})
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.path}: cannot write a video here: {exc}") from None
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = self._ew, self._eh
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = 1 / rate
        opts: Dict[str, str] = {"crf": str(self.crf), "preset": self.preset}
        stream.codec_context.options = opts
        self._stream, self._rate = stream, rate
        # OpenCV's BGR->I420 is BT.601 limited range, what decoders assume for untagged video
        self._yuv = np.empty((self._eh * 3 // 2, self._ew), np.uint8)
        self.codec_used = f"H.264 (libx264 via PyAV {av.__version__}, yuv420p, crf {self.crf})"

    def _open_opencv(self) -> None:
        import cv2

        self._cv2 = cv2
        fourcc = "mp4v" if self.codec == "auto" else self.codec
        writer = cv2.VideoWriter(self._file, cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc),
                                 self.fps, (self._ew, self._eh))
        if not writer.isOpened():
            raise InputError(f"{self.path}: OpenCV cannot write {fourcc} video to this file")
        self._writer = writer
        why = "" if self.codec != "auto" else (
            " (PyAV with libx264 not available: pip install \"lanecam[video]\" for H.264)")
        self.codec_used = f"MPEG-4 {fourcc} via OpenCV{why}"

    def describe(self) -> str:
        padded = f" (padded to {self._ew}x{self._eh})" if self._pad is not None else ""
        return (f"video {self.path}: {self.codec_used}, {self.width}x{self.height}{padded} "
                f"@ {self.fps:g} fps")

    # -- writing ----------------------------------------------------------------------------
    def _write(self, frame: np.ndarray, result, meta) -> None:
        if frame.shape[:2] != (self.height, self.width):
            raise InputError(f"{self.path}: frame is {frame.shape[1]}x{frame.shape[0]}, "
                             f"the video was opened for {self.width}x{self.height}")
        if self._pad is not None:
            self._pad[:self.height, :self.width] = frame
            frame = self._pad
        if self._writer is not None:
            self._writer.write(frame)
            return
        self._cv2.cvtColor(frame, self._cv2.COLOR_BGR2YUV_I420, dst=self._yuv)
        # wraps self._yuv without copying; libx264 copies the picture during encode()
        vf = self._av.VideoFrame.from_numpy_buffer(self._yuv, format="yuv420p", width=self.width)
        vf.pts = self.frames_written
        vf.time_base = self._stream.codec_context.time_base
        for packet in self._stream.encode(vf):
            self._container.mux(packet)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._container is not None:
            try:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
            finally:
                self._container.close()
                self._container = self._stream = None
