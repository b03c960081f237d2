"""Finite streams end; live streams reconnect, with backoff even when reconnecting succeeds.

An http:// mp4 and an HLS VOD playlist (``#EXT-X-ENDLIST``) served by a local HTTP server are
read like files: every frame once, in order, then END. An HLS playlist without ENDLIST and an
MJPEG camera are live and keep reconnecting, but a server that accepts and drops at once is
not hammered. A dropped connection to a finite stream resumes where it stopped (fake captures).
"""

import time

import cv2
import pytest

from .file_server import FileServer
from .media import numbered_frame, write_hls, write_video
from .mjpeg_server import FakeMjpegCamera
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources import ReadStatus, open_source
from lanecam.pipeline.sources.stream_finite import FiniteStream

FRAMES = 21  # 3 HLS segments; numbered_frame brightness wraps at frame 22


def _index(frame) -> int:
    """Which ``numbered_frame`` this is (brightness 20 + 10 i, within codec error)."""
    return int(round((float(frame.mean()) - 20) / 10))


def _read_all(src, seconds=30.0):
    """Read until END or ERROR; returns (frame indices, final status)."""
    got, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, frame, _ = src.read(timeout=0.5)
        if status is ReadStatus.OK:
            got.append(_index(frame))
        elif status is not ReadStatus.TIMEOUT:
            return got, status
    return got, None


@pytest.fixture
def served(tmp_path):
    pytest.importorskip("av")
    write_video(tmp_path / "clip.mp4", FRAMES)
    write_hls(tmp_path, FRAMES, name="vod")
    write_hls(tmp_path, FRAMES, name="live", endlist=False)
    with FileServer(tmp_path) as server:
        yield server


@pytest.mark.parametrize("name", ["clip.mp4", "vod.m3u8"])
def test_a_finite_stream_ends_after_its_frames(served, name):
    src = open_source(served.url(name), read_timeout=2.0).open()
    try:
        assert not src.is_live and src.frame_count == FRAMES
        start = time.monotonic()
        got, status = _read_all(src)
        assert status is ReadStatus.END
        assert got == list(range(FRAMES))  # every frame once, in order: never replayed
        assert src.reconnects == 0 and not src.ended_early
        assert src.read()[0] is ReadStatus.END
        assert time.monotonic() - start < 10
    finally:
        src.close()
    assert served.requests[name] <= 2  # FFmpeg may fetch the mp4 index with a range request


def test_a_live_hls_playlist_keeps_reconnecting_with_backoff(served):
    src = open_source(served.url("live.m3u8"), read_timeout=1.0, max_backoff=1.0).open()
    try:
        assert src.is_live and src.frame_count is None
        statuses, start = set(), time.monotonic()
        while time.monotonic() - start < 6.0:
            statuses.add(src.read(timeout=0.2)[0])
        # no segment is ever added: it goes silent, is reconnected (the live edge again) and
        # never ends, but not in a loop: 1 s silence + waits of 0.25, 0.5, 1 ... s
        assert statuses <= {ReadStatus.OK, ReadStatus.TIMEOUT}
        assert 1 <= src.reconnects <= 4
        assert src.frames_received >= FRAMES  # first connection: the whole live window
    finally:
        src.close()


def test_a_server_that_drops_at_once_is_reconnected_with_growing_waits():
    with FakeMjpegCamera(fps=50, frames_per_connection=10) as cam:
        src = open_source(cam.url, read_timeout=1.0, max_backoff=1.0).open()
        try:
            got, start = 0, time.monotonic()
            while time.monotonic() - start < 4.0:
                status = src.read(timeout=0.2)[0]
                assert status in (ReadStatus.OK, ReadStatus.TIMEOUT)
                got += status is ReadStatus.OK
        finally:
            src.close()
    # without backoff after a successful reconnect this was dozens a second; with it
    # 0.25 + 0.5 + 1 + 1 + 1 ... s apart: at most 6 connections in 4 s
    assert 3 <= cam.connections <= 6, cam.connections
    assert got >= 3  # frames keep coming: the stream is live, it never ends


@pytest.mark.parametrize("key, value", [("max_backoff", 0.1), ("open_timeout", 0.0),
                                        ("give_up_after", -1.0), ("read_timeout", 1e6)])
def test_stream_timeouts_out_of_range_are_refused(key, value):
    with pytest.raises(InputError, match=key):
        open_source("rtsp://camera.invalid/x", **{key: value})


class FakeClip:
    """A ``VideoCapture`` over frames ``0..frames-1`` of a remote clip that drops its
    connection after ``drop_after`` frames; ``seekable`` False ignores seeking."""

    def __init__(self, frames, drop_after=None, seekable=True):
        self.frames, self.drop_after, self.seekable = frames, drop_after, seekable
        self.pos = 0
        self.released = False

    def read(self, out=None):
        if self.pos >= self.frames or self.pos == self.drop_after:
            return False, None
        frame = numbered_frame(self.pos)
        self.pos += 1
        return True, frame

    def set(self, prop, value):
        if prop == cv2.CAP_PROP_POS_FRAMES and self.seekable:
            self.pos = min(int(value), self.frames)
        return True

    def get(self, prop):
        return float(self.pos) if prop == cv2.CAP_PROP_POS_FRAMES else 0.0

    def release(self):
        self.released = True


def _finite(first_cap, connects, frame_count, give_up_after=0.0):
    """A FiniteStream whose first frame was read from ``first_cap``; each reconnect takes the
    next capture of ``connects`` (None: the connection is refused)."""
    ok, first = first_cap.read()
    assert ok
    pending = list(connects)
    return FiniteStream("http://server/clip.mp4", lambda timeout: pending.pop(0), first_cap,
                        first, frame_count, 10.0, 1.0, 0.25, give_up_after, cv2)


def test_a_dropped_finite_stream_resumes_where_it_stopped():
    stream = _finite(FakeClip(20, drop_after=8), [None, FakeClip(20)], 20)
    got, status = _read_all(stream)
    assert status is ReadStatus.END
    assert got == list(range(20))  # nothing lost, nothing read twice
    assert stream.reconnects == 1 and stream.ended_early is None


def test_a_finite_stream_that_cannot_resume_says_so_instead_of_replaying():
    stream = _finite(FakeClip(20, drop_after=8), [FakeClip(20, seekable=False)], 20)
    got, status = _read_all(stream)
    assert status is ReadStatus.END and got == list(range(8))
    assert "frame 8 of 20" in stream.ended_early and "cannot resume" in stream.ended_early


def test_an_announced_length_a_little_too_long_is_still_a_clean_end():
    # duration x fps estimates can overshoot: the server, asked for frame 20, has none
    stream = _finite(FakeClip(20), [FakeClip(20)], 22)
    got, status = _read_all(stream)
    assert status is ReadStatus.END and got == list(range(20))
    assert not stream.ended_early


def test_a_finite_stream_far_short_of_its_length_is_reported():
    stream = _finite(FakeClip(20), [FakeClip(20)], 100)
    got, status = _read_all(stream)
    assert status is ReadStatus.END and len(got) == 20
    assert "ended at frame 20 of the 100" in stream.ended_early


def test_a_finite_stream_whose_server_is_gone_gives_up_when_asked():
    stream = _finite(FakeClip(20, drop_after=5), [None] * 100, 20, give_up_after=0.5)
    got, status = _read_all(stream, seconds=10)
    assert status is ReadStatus.ERROR and got == list(range(5))
