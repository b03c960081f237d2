"""Cameras: an index, ``/dev/videoN``, ``v4l2://N``, ``csi://N`` (Jetson), a GStreamer pipeline."""

import os
import sys
from typing import Optional

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.capture import CaptureSource, require_gstreamer
from lanecam.pipeline.sources.gst_text import pipeline_ends, pipeline_is_live
from lanecam.pipeline.sources.uri import parse_options

__all__ = ["CameraSource", "GStreamerSource", "csi_pipeline"]

V4L2_OPTIONS = {"width": (int, 0), "height": (int, 0), "fps": (float, 0.0), "mjpg": (bool, False)}
CSI_OPTIONS = {"width": (int, 1280), "height": (int, 720), "fps": (float, 30.0), "flip": (int, 0)}


class CameraSource(CaptureSource):
    """A V4L2 camera (``0``, ``/dev/video0``, ``v4l2://0?width=1280&height=720&fps=30&mjpg=1``).

    Args:
        uri: as given by the user.
        index: the device number N of ``/dev/videoN``.
        width, height, fps: requested capture format (0 = the driver's default); the
            driver may pick the nearest it supports, and ``width``/``height``/``fps`` report
            what it picked.
        mjpg: ask for the MJPG pixel format (USB cameras reach full frame rate at HD only
            compressed).

    The driver queue is set to one buffer so a frame is never older than one frame period
    more than it must be; read frames decode straight into the caller's buffer.
    """

    def __init__(self, uri: str, index: int, width: int = 0, height: int = 0,
                 fps: float = 0.0, mjpg: bool = False):
        super().__init__(uri)
        if index < 0:
            raise InputError(f"{uri}: camera index must be >= 0, got {index}")
        self.index = index
        self.req_width, self.req_height, self.req_fps, self.mjpg = width, height, fps, mjpg

    def _make_capture(self, cv2):
        on_linux = sys.platform.startswith("linux")
        device = f"/dev/video{self.index}"
        if on_linux and not os.path.exists(device):
            # checked first: OpenCV's own failure is a warning several lines long
            return None
        cap = cv2.VideoCapture(self.index, cv2.CAP_V4L2 if on_linux else cv2.CAP_ANY)
        if not cap.isOpened():
            return cap
        if self.mjpg:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        if self.req_width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.req_width)
        if self.req_height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.req_height)
        if self.req_fps:
            cap.set(cv2.CAP_PROP_FPS, self.req_fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap

    def _describe_failure(self) -> str:
        return (f"{self.uri}: camera /dev/video{self.index} not found or busy "
                "(is it plugged in, and not used by another program?)")

    def _open(self) -> None:
        super()._open()
        # some drivers only report the negotiated size after the first frame
        frame = self._grab(None)
        if frame is None:
            self._close()
            raise InputError(f"{self.uri}: camera opened but delivers no frames")
        self.height, self.width = frame.shape[:2]
        if not self.fps:
            self.fps = self.req_fps or 30.0


def csi_pipeline(sensor_id: int, width: int, height: int, fps: float, flip: int = 0) -> str:
    """The GStreamer pipeline for a Jetson CSI camera: nvarguscamerasrc in NVMM memory,
    nvvidconv to BGRx, videoconvert to BGR, an appsink that keeps only the newest frame."""
    rate = f"{int(round(fps))}/1"
    return (f"nvarguscamerasrc sensor-id={sensor_id} ! "
            f"video/x-raw(memory:NVMM), width={width}, height={height}, framerate={rate}, "
            f"format=NV12 ! nvvidconv flip-method={flip} ! "
            f"video/x-raw, width={width}, height={height}, format=BGRx ! "
            "videoconvert ! video/x-raw, format=BGR ! appsink drop=true max-buffers=1 sync=false")


class GStreamerSource(CaptureSource):
    """Frames from a GStreamer pipeline string ending in ``appsink`` (OpenCV's GStreamer backend).

    Args:
        uri: as given by the user (``csi://0`` or the pipeline itself).
        pipeline: the GStreamer pipeline description.
        live: whether its source produces frames in real time (the pipeline then drops
            frames rather than blocking it); default from the description
            (``gst_text.pipeline_is_live``: cameras and network sources are, ``filesrc`` and
            ``videotestsrc`` are not).
        ends: whether it stops by itself, so that a read without a frame is the end of the
            stream, not a failure; default from the description (``num-buffers=N`` or a
            source that is not live, ``gst_text.pipeline_ends``).
        fps: the nominal frame rate when OpenCV reports none.
    """

    def __init__(self, uri: str, pipeline: str, live: Optional[bool] = None,
                 fps: float = 0.0, ends: Optional[bool] = None):
        super().__init__(uri)
        if "appsink" not in pipeline:
            raise InputError(f"{uri}: a GStreamer pipeline must end in an appsink "
                             "(... ! videoconvert ! video/x-raw,format=BGR ! appsink)")
        self.pipeline = pipeline
        self.is_live = pipeline_is_live(pipeline) if live is None else bool(live)
        self.ends = pipeline_ends(pipeline, self.is_live) if ends is None else bool(ends)
        self._nominal_fps = fps

    def _make_capture(self, cv2):
        require_gstreamer(cv2, self.uri)
        return cv2.VideoCapture(self.pipeline, cv2.CAP_GSTREAMER)

    def _describe_failure(self) -> str:
        return f"{self.uri}: GStreamer could not start the pipeline {self.pipeline!r}"

    def _open(self) -> None:
        super()._open()
        if not self.fps:
            self.fps = self._nominal_fps or 30.0


def _device_index(uri: str, text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise InputError(f"{uri}: expected a camera number, got {text!r}") from None


def open_camera(uri: str, **options) -> CameraSource:
    """Registry factory for ``N``, ``/dev/videoN`` and ``v4l2://N[?width=&height=&fps=&mjpg=1]``."""
    head, _, query = uri.partition("?")
    if head.startswith("v4l2://"):
        rest = head[len("v4l2://"):]
        rest = rest[len("/dev/video"):] if rest.startswith("/dev/video") else rest
    elif head.startswith("/dev/video"):
        rest = head[len("/dev/video"):]
    else:
        rest = head
    values = parse_options(uri, query, options, V4L2_OPTIONS)
    return CameraSource(uri, _device_index(uri, rest), **values)


def open_csi(uri: str, **options) -> GStreamerSource:
    """Registry factory for ``csi://N[?width=&height=&fps=&flip=]`` (Jetson nvarguscamerasrc)."""
    head, _, query = uri.partition("?")
    index = _device_index(uri, head[len("csi://"):] or "0")
    v = parse_options(uri, query, options, CSI_OPTIONS)
    return GStreamerSource(uri, csi_pipeline(index, v["width"], v["height"], v["fps"], v["flip"]),
                           live=True, fps=v["fps"])


def open_gstreamer(uri: str, live: Optional[bool] = None, **options) -> GStreamerSource:
    """Registry factory for a raw GStreamer pipeline string (contains ``!``); ``live``
    overrides what the description says (see ``GStreamerSource``)."""
    if options:
        raise InputError(f"{uri}: unknown option(s) {', '.join(sorted(options))} for a "
                         "GStreamer pipeline; expected live")
    return GStreamerSource(uri, uri, live=live)
