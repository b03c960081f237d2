"""``lanecam run`` on a finite GStreamer pipeline: every frame, then exit 0 (a fake capture
stands in for OpenCV's GStreamer backend, which the pip OpenCV lacks)."""

import json

import cv2

from lanecam.pipeline.cli import main
from tests.sources.fake_gstreamer import use_fake_gstreamer

FINITE_TEST = "videotestsrc num-buffers=100 ! videoconvert ! video/x-raw,format=BGR ! appsink"


def test_lanecam_run_on_a_finite_pipeline_keeps_every_frame_and_exits_0(
        tmp_path, capsys, monkeypatch, tiny_model):
    """Was: exit 1 after 98 of 100 frames (the pipeline counted as a camera: its end was a
    failure, and live rings dropped frames)."""
    use_fake_gstreamer(monkeypatch, 100)
    lanes, out = tmp_path / "lanes.jsonl", tmp_path / "out.mp4"
    rc = main(["run", FINITE_TEST, "--model", str(tiny_model), "--lanes", str(lanes),
               "-o", str(out), "--quiet", "--threads", "1"])
    err = capsys.readouterr().err
    assert rc == 0, err
    ids = [json.loads(line)["frame_id"] for line in lanes.read_text().splitlines()]
    assert ids == list(range(100))
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 100
    cap.release()


def test_lanecam_run_on_a_camera_pipeline_that_stops_is_exit_1(tmp_path, capsys, monkeypatch,
                                                               tiny_model):
    """A camera (no num-buffers) that stops delivering has failed: exit 1, as before."""
    use_fake_gstreamer(monkeypatch, 20)
    rc = main(["run", "v4l2src ! videoconvert ! appsink", "--model", str(tiny_model),
               "--lanes", str(tmp_path / "lanes.jsonl"), "--quiet", "--threads", "1"])
    err = capsys.readouterr().err
    assert rc == 1 and "the source failed" in err, err
