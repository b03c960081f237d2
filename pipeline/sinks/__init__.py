"""Where processed frames go: video file, window, image folder, JSON lines, MJPEG preview,
MCAP file and live Foxglove view (the ``robotics`` extra), null.

Every sink has the same lifecycle: ``open(width, height, fps)``, ``write(frame, result, meta)``
per frame, ``close()``. Several can run at once; each says what it writes in ``describe()``.
Heavy optional libraries (PyAV for H.264, the Foxglove SDK) are imported only when a sink opens.
"""

from lanecam.pipeline.sinks.base import NullSink, Sink
from lanecam.pipeline.sinks.foxglove_live import FoxgloveLiveSink
from lanecam.pipeline.sinks.images import ImageFolderSink
from lanecam.pipeline.sinks.jsonl import JsonLinesSink
from lanecam.pipeline.sinks.mcap_file import McapSink
from lanecam.pipeline.sinks.preview import MjpegPreviewSink
from lanecam.pipeline.sinks.video import VideoFileSink
from lanecam.pipeline.sinks.window import WindowSink

__all__ = ["Sink", "NullSink", "VideoFileSink", "WindowSink", "ImageFolderSink", "JsonLinesSink",
           "MjpegPreviewSink", "McapSink", "FoxgloveLiveSink"]
