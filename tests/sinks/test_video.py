"""Video file sink: N frames in, N frames at the source's fps and size out, playable."""

import sys

import cv2
import numpy as np
import pytest

from lanecam.pipeline.errors import InputError, MissingDependencyError
from lanecam.pipeline.sinks import VideoFileSink


def frames(n, width=160, height=96):
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 255, (12, 20, 3), dtype=np.uint8), (width, height))
    # a moving bar gives each frame its own content
    out = []
    for i in range(n):
        f = base.copy()
        cv2.rectangle(f, (i * 4 % width, 10), (i * 4 % width + 12, 60), (255, 255, 255), -1)
        out.append(f)
    return out


def read_back(path):
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"{path} does not open"
    info = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            cap.get(cv2.CAP_PROP_FPS))
    decoded = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        decoded.append(f)
    cap.release()
    return info, decoded


@pytest.mark.parametrize("codec, expect", [("auto", "H.264"), ("mp4v", "mp4v")])
@pytest.mark.parametrize("fps", [25.0, 29.97])
def test_writes_n_frames_at_source_fps_and_size(tmp_path, codec, expect, fps):
    if codec == "auto":
        pytest.importorskip("av")
    src = frames(17)
    path = tmp_path / "out.mp4"
    sink = VideoFileSink(path, codec=codec)
    sink.open(160, 96, fps)
    for f in src:
        sink.write(f, None, None)
    sink.close()
    assert expect in sink.describe()
    (w, h, got_fps), decoded = read_back(path)
    assert (w, h) == (160, 96)
    assert got_fps == pytest.approx(fps, abs=0.01)
    assert len(decoded) == 17
    # frames come back in order and recognisable (a lossy codec, not a different picture)
    assert min(cv2.PSNR(a, b) for a, b in zip(src, decoded)) > 25


def test_h264_is_yuv420p_for_browsers(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "out.mp4"
    sink = VideoFileSink(path, codec="libx264")
    sink.open(64, 48, 10)
    for f in frames(5, 64, 48):
        sink.write(f, None, None)
    sink.close()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"


def test_odd_size_is_padded_not_cropped(tmp_path):
    path = tmp_path / "odd.mp4"
    sink = VideoFileSink(path)
    sink.open(63, 47, 10)
    for f in frames(3, 63, 47):
        sink.write(f, None, None)
    sink.close()
    assert "padded to 64x48" in sink.describe()
    (w, h, _), decoded = read_back(path)
    assert (w, h, len(decoded)) == (64, 48, 3)


def test_close_twice_and_wrong_frame_size(tmp_path):
    sink = VideoFileSink(tmp_path / "a.mp4")
    sink.open(64, 48, 10)
    with pytest.raises(InputError, match="frame is 32x32"):
        sink.write(np.zeros((32, 32, 3), np.uint8), None, None)
    sink.close()
    sink.close()


@pytest.mark.parametrize("path, message", [
    ("no/such/folder/out.mp4", "does not exist"),
    (".", "is a folder"),
])
def test_bad_output_paths(tmp_path, monkeypatch, path, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=message):
        VideoFileSink(path).open(64, 48, 10)


def test_bad_codec_and_rate(tmp_path):
    with pytest.raises(InputError, match="4-letter FourCC"):
        VideoFileSink(tmp_path / "a.mp4", codec="h265x").open(64, 48, 10)
    with pytest.raises(InputError, match="frame rate must be > 0"):
        VideoFileSink(tmp_path / "a.mp4").open(64, 48, 0)


def test_without_pyav_auto_falls_back_and_h264_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # makes "import av" fail
    sink = VideoFileSink(tmp_path / "a.mp4")
    sink.open(64, 48, 10)
    sink.close()
    assert "mp4v via OpenCV" in sink.describe() and "lanecam[video]" in sink.describe()
    with pytest.raises(MissingDependencyError, match=r"lanecam\[video\]"):
        VideoFileSink(tmp_path / "b.mp4", codec="libx264").open(64, 48, 10)


def test_real_video_round_trip(shared_data, tmp_path):
    from lanecam.pipeline.sources import ReadStatus, open_source

    path = tmp_path / "copy.mp4"
    with open_source(str(shared_data / "videos" / "udacity_vehicle_test.mp4")) as src:
        sink = VideoFileSink(path)
        sink.open(src.width, src.height, src.fps)
        while True:
            status, frame, _ = src.read()
            if status is not ReadStatus.OK:
                break
            sink.write(frame, None, None)
        sink.close()
    (w, h, fps), decoded = read_back(path)
    assert (w, h, fps, len(decoded)) == (1280, 720, 25.0, 38)
