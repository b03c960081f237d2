"""GStreamer pipelines: a finite one (``num-buffers``, ``filesrc``) ends with END after its last
frame, a camera pipeline that stops delivering fails; read through a fake capture (the pip
OpenCV has no GStreamer)."""

import pytest

from .fake_gstreamer import use_fake_gstreamer
from lanecam.pipeline.sources import ReadStatus, open_source
from lanecam.pipeline.sources.camera import csi_pipeline
from lanecam.pipeline.sources.gst_text import parse_pipeline, pipeline_ends, pipeline_is_live

FINITE_TEST = "videotestsrc num-buffers=100 ! videoconvert ! video/x-raw,format=BGR ! appsink"


@pytest.mark.parametrize("text, live, ends", [
    (FINITE_TEST, False, True),
    ("videotestsrc ! videoconvert ! appsink", False, True),
    ("videotestsrc is-live=true ! videoconvert ! appsink", True, False),
    ("videotestsrc is-live=1 num-buffers=50 ! videoconvert ! appsink", True, True),
    ("filesrc location=drive.mp4 ! qtdemux ! avdec_h264 ! videoconvert ! appsink", False, True),
    ('filesrc location="my drive.mp4" ! decodebin ! videoconvert ! appsink', False, True),
    ("uridecodebin uri=file:///data/drive.mp4 ! videoconvert ! appsink", False, True),
    ("uridecodebin uri=rtsp://cam/x ! videoconvert ! appsink", True, False),
    ("v4l2src device=/dev/video0 ! video/x-raw, width=640, height=480 ! videoconvert ! appsink",
     True, False),
    ("v4l2src num-buffers=30 ! videoconvert ! appsink", True, True),
    ("v4l2src num-buffers=-1 ! videoconvert ! appsink", True, False),
    ("rtspsrc location=rtsp://cam/x latency=0 ! rtph264depay ! avdec_h264 ! videoconvert ! "
     "appsink drop=true", True, False),
    (csi_pipeline(0, 1280, 720, 30), True, False),
    ("vendorcamsrc ! videoconvert ! appsink", True, False),  # unknown: treated as a camera
])
def test_the_description_says_whether_the_pipeline_is_live_and_ends(text, live, ends):
    assert pipeline_is_live(text) is live
    assert pipeline_ends(text) is ends
    source = open_source(text)
    assert (source.is_live, source.ends) == (live, ends)


def test_parse_pipeline_skips_caps_and_pad_references():
    elements = parse_pipeline("filesrc location=a.mp4 ! qtdemux name=d d.video_0 ! queue ! "
                              "video/x-raw, format=BGR ! appsink max-buffers=2")
    assert [e.name for e in elements] == ["filesrc", "qtdemux", "queue", "appsink"]
    assert elements[0].props == {"location": "a.mp4"} and elements[-1].props["max-buffers"] == "2"


@pytest.fixture
def fake_gstreamer(monkeypatch):
    """Every GStreamer pipeline opened from now on reads a ``FakeGstCapture`` of 100 frames."""
    return use_fake_gstreamer(monkeypatch, 100)


@pytest.mark.parametrize("text, last", [
    (FINITE_TEST, ReadStatus.END),
    ("v4l2src num-buffers=100 ! videoconvert ! appsink", ReadStatus.END),
    ("v4l2src ! videoconvert ! appsink", ReadStatus.ERROR),  # the camera stopped: a failure
])
def test_a_finite_pipeline_ends_after_its_last_frame(fake_gstreamer, text, last):
    with open_source(text) as src:
        statuses = [src.read()[0] for _ in range(101)]
    assert statuses == [ReadStatus.OK] * 100 + [last]


def test_live_false_makes_an_unknown_source_end(fake_gstreamer):
    text = "vendorfilesrc path=x ! videoconvert ! appsink"
    assert open_source(text).ends is False  # unknown: a camera
    with open_source(text, live=False) as src:
        assert not src.is_live and src.ends
        statuses = [src.read()[0] for _ in range(101)]
    assert statuses[-1] is ReadStatus.END
