"""Cameras and GStreamer: absent devices and missing GStreamer give one clear line."""

import cv2
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources import open_source
from lanecam.pipeline.sources.camera import csi_pipeline
from lanecam.pipeline.sources.capture import has_gstreamer


def _absent_index():
    import os

    return next(i for i in range(60, 100) if not os.path.exists(f"/dev/video{i}"))


@pytest.mark.parametrize("form", ["{}", "/dev/video{}", "v4l2://{}?width=640&height=480&mjpg=1"])
def test_absent_camera_is_refused(form):
    uri = form.format(_absent_index())
    with pytest.raises(InputError, match="not found") as info:
        open_source(uri).open()
    assert uri in str(info.value)


def test_csi_pipeline_asks_nvargus_for_bgr_newest_frame_only():
    text = csi_pipeline(1, 1920, 1080, 30)
    assert text.startswith("nvarguscamerasrc sensor-id=1 ! ")
    assert "width=1920, height=1080, framerate=30/1" in text
    assert text.endswith("appsink drop=true max-buffers=1 sync=false")


@pytest.mark.skipif(has_gstreamer(cv2), reason="this OpenCV has GStreamer")
@pytest.mark.parametrize("uri", ["csi://0", "videotestsrc ! videoconvert ! appsink"])
def test_without_gstreamer_says_so(uri):
    with pytest.raises(InputError, match="needs OpenCV built with GStreamer"):
        open_source(uri).open()


def test_gstreamer_pipeline_must_end_in_appsink():
    with pytest.raises(InputError, match="must end in an appsink"):
        open_source("videotestsrc ! autovideosink")
