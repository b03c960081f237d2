"""Frame sources opened by URI: video files, image folders, cameras, streams, GStreamer, synthetic.

``open_source(uri, **options)`` picks the source from the URI and returns it unopened::

    with open_source("drive.mp4") as src:           # also file://drive.mp4
        status, frame, ts = src.read(out=buffer)

Accepted URIs: a video path or ``file://``; an image folder, glob (``frames/*.png``) or image;
a camera index ``0``, ``/dev/video0`` or ``v4l2://0?width=1280&height=720&fps=30&mjpg=1``;
``csi://0`` (Jetson, GStreamer); ``rtsp://``, ``http(s)://`` streams; a GStreamer pipeline
string (contains ``!``, ends in ``appsink``); an MCAP file ``drive.mcap`` or
``mcap://drive.mcap?topic=/cam``; a ROS bag (``drive.bag``, a ROS 2 bag folder, or
``rosbag://PATH?topic=/cam``; the ``robotics`` extra);
``synthetic://?width=&height=&fps=&seed=&frames=&live=``.
Plugins import their libraries only when used (see ``registry``).
"""

# capture sets OPENCV_FFMPEG_LOGLEVEL before OpenCV first loads FFmpeg (it imports no cv2 itself)
from lanecam.pipeline.sources import capture as _capture  # noqa: F401
from lanecam.pipeline.sources.base import Pacer, ReadStatus, Source
from lanecam.pipeline.sources.registry import (SourcePlugin, find_plugin, open_source, register_source,
                                       source_plugins, unregister_source)

__all__ = ["open_source", "Source", "ReadStatus", "Pacer", "SourcePlugin", "register_source",
           "unregister_source", "source_plugins", "find_plugin"]
