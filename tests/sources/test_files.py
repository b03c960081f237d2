"""Video files: every frame in order, container facts, and bad files refused by name."""

import time

import cv2
import numpy as np
import pytest

from .media import numbered_frame, write_video
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources import ReadStatus, open_source


def read_all(src, out=None):
    frames, stamps = [], []
    while True:
        status, frame, ts = src.read(out=out)
        if status is ReadStatus.END:
            return frames, stamps
        assert status is ReadStatus.OK
        frames.append(frame.copy())
        stamps.append(ts)


def test_reads_every_frame_in_order(small_video):
    with open_source(str(small_video)) as src:
        assert (src.width, src.height, src.fps, src.frame_count) == (64, 48, 10.0, 12)
        assert not src.is_live
        frames, stamps = read_all(src)
    assert len(frames) == 12
    means = [f.mean() for f in frames]
    expected = [numbered_frame(i).mean() for i in range(12)]
    assert np.allclose(means, expected, atol=4)
    assert stamps == pytest.approx([i / 10.0 for i in range(12)])


def test_decodes_into_the_callers_buffer(small_video):
    buf = np.zeros((48, 64, 3), np.uint8)
    with open_source(f"file://{small_video}") as src:
        for _ in range(3):  # the first (probe) frame and decoded ones
            status, frame, _ = src.read(out=buf)
            assert status is ReadStatus.OK and frame is buf
        status, frame, _ = src.read(out=np.zeros((10, 10, 3), np.uint8))
        assert status is ReadStatus.OK and frame.shape == (48, 64, 3)


def test_realtime_paces_at_the_file_rate(tmp_path):
    video = write_video(tmp_path / "fast.mp4", 6, fps=50.0)
    with open_source(str(video), realtime=True) as src:
        assert src.is_live
        start = time.monotonic()
        frames, _ = read_all(src)
        elapsed = time.monotonic() - start
    assert len(frames) == 6
    assert elapsed >= 5 / 50.0 * 0.9  # lower bound only: pacing must not be skipped


def _not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are my notes, not a video\n" * 20)
    return path


def _truncated(tmp_path):
    good = write_video(tmp_path / "good.mp4", 30)
    data = good.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # mp4v files keep their index at the end
    return cut


def _zero_frames(tmp_path):
    return write_video(tmp_path / "empty.mp4", 0)


def _zero_frames_avi(tmp_path):
    # an AVI keeps its header without frames: it opens, and has nothing to decode
    path = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    writer.release()
    return path


def _empty_file(tmp_path):
    path = tmp_path / "zero.mp4"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing.mp4", "no such file"),
    (_not_a_video, "not a readable video"),
    (_truncated, "not a readable video|no decodable frames"),
    (_zero_frames, "not a readable video|no decodable frames|empty file"),
    (_zero_frames_avi, "no decodable frames"),
    (_empty_file, "empty file"),
])
def test_bad_files_are_refused_by_name(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError, match=message) as info:
        open_source(str(path)).open()
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_file_cut_after_its_index_ends_early_without_error(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "faststart.mp4"
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(40):
            frame = av.VideoFrame.from_ndarray(numbered_frame(i), format="bgr24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])  # the index (moov) is at the start: still opens
    with open_source(str(path)) as src:
        assert src.frame_count == 40
        frames, _ = read_all(src)
    assert 0 < len(frames) < 40
    assert src.ended_early and "truncated" in src.ended_early
    assert f"ended at frame {len(frames)} of 40" in src.ended_early


def test_real_video_matches_its_readme(shared_data):
    path = shared_data / "videos" / "udacity_project_highway.mp4"
    with open_source(str(path)) as src:
        assert (src.width, src.height, src.fps, src.frame_count) == (1280, 720, 25.0, 170)
        buf = np.empty((720, 1280, 3), np.uint8)
        count = 0
        while src.read(out=buf)[0] is ReadStatus.OK:
            count += 1
    assert count == 170


def test_read_before_open_is_refused_and_after_close_ends(small_video):
    src = open_source(str(small_video))
    with pytest.raises(InputError, match="before open"):
        src.read()
    src.open()
    src.close()
    assert src.read()[0] is ReadStatus.END
    src.close()  # idempotent
