"""What a GStreamer pipeline description (``gst-launch`` syntax) says about itself: its elements
and properties, whether its source is live, and whether it ends by itself.

OpenCV's GStreamer backend reports neither: a read that fails looks the same at the end of a
``filesrc`` and when a camera is unplugged. The description tells them apart.
"""

import shlex
from dataclasses import dataclass
from typing import Dict, List, Optional

__all__ = ["GstElement", "parse_pipeline", "pipeline_is_live", "pipeline_ends"]

# Sources that produce frames in real time whether or not anyone reads them (cameras, network
# receivers, screen capture): the pipeline must drop rather than block behind them.
LIVE_SOURCES = frozenset({
    "v4l2src", "nvarguscamerasrc", "nvv4l2camerasrc", "libcamerasrc", "pipewiresrc",
    "ximagesrc", "ksvideosrc", "mfvideosrc", "avfvideosrc", "dshowvideosrc", "aravissrc",
    "pylonsrc", "rtspsrc", "udpsrc", "tcpclientsrc", "tcpserversrc", "srtsrc", "srtclientsrc",
    "rtmpsrc", "rtmp2src", "webrtcbin",
})
# Sources that deliver as fast as they are read and end (files) or never end (test patterns).
STORED_SOURCES = frozenset({
    "filesrc", "multifilesrc", "imagesequencesrc", "splitmuxsrc", "giosrc", "videotestsrc",
})
# Bins that read a URI: stored when the URI is a file.
URI_BINS = frozenset({"uridecodebin", "uridecodebin3", "urisourcebin", "playbin", "playbin3"})

_TRUE = {"true", "1", "yes", "on"}


@dataclass
class GstElement:
    """One element of a description: its factory name and the properties given to it."""

    name: str
    props: Dict[str, str]


def parse_pipeline(text: str) -> List[GstElement]:
    """The elements of a ``gst-launch`` description, in order (caps and ``name.`` references
    left out). Lenient: an unbalanced quote falls back to splitting on spaces."""
    elements: List[GstElement] = []
    for chain in text.split("!"):
        try:
            tokens = shlex.split(chain)
        except ValueError:
            tokens = chain.split()
        current = None
        for token in tokens:
            token = token.rstrip(",")
            if "=" in token:
                if current is not None:
                    key, _, value = token.partition("=")
                    current.props[key.strip()] = value.strip().strip("\"'")
            elif "." in token or "/" in token or token.startswith("("):
                # a pad reference (``demux.``, ``d.video_0``; factory names have no dots) or
                # caps (``video/x-raw, ...``)
                current = None
            elif token:
                current = GstElement(token, {})
                elements.append(current)
    return elements


def _stored_uri(element: GstElement) -> bool:
    return element.props.get("uri", "").lower().startswith("file:")


def pipeline_is_live(text: str) -> bool:
    """True when the description's source produces frames in real time: an element with
    ``is-live=true``, or a camera / network source. False for files and test patterns.
    A source we do not know counts as live: cameras are what pipelines are mostly for, and a
    live source must never be blocked (the pipeline drops frames instead)."""
    elements = parse_pipeline(text)
    if any(e.props.get("is-live", "").lower() in _TRUE for e in elements):
        return True
    if any(e.name in LIVE_SOURCES for e in elements):
        return True
    if any(e.name in STORED_SOURCES or (e.name in URI_BINS and _stored_uri(e))
           for e in elements):
        return False
    return True


def pipeline_ends(text: str, live: Optional[bool] = None) -> bool:
    """True when the pipeline stops by itself (end of stream): a source with
    ``num-buffers=N`` (N > 0), or one that is not live (a file; ``live`` overrides what the
    description says). Then a read that gets no frame is the end of the stream; for a live
    source without ``num-buffers`` it is a failure (a camera unplugged)."""
    for element in parse_pipeline(text):
        try:
            if int(element.props.get("num-buffers", "-1")) > 0:
                return True
        except ValueError:
            pass
    return not (pipeline_is_live(text) if live is None else live)
