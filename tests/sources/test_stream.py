"""Network streams: a local MJPEG camera read live, unplugged mid-run and plugged back in."""

import threading
import time

import pytest

from .mjpeg_server import FakeMjpegCamera
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources import ReadStatus, open_source


def _collect(src, seconds, out):
    """Read for ``seconds``; append (monotonic time, mean brightness) per OK frame."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, frame, ts = src.read(timeout=0.2)
        assert status in (ReadStatus.OK, ReadStatus.TIMEOUT)
        if status is ReadStatus.OK:
            out.append((ts, float(frame.mean())))


def test_live_mjpeg_stream_reconnects_after_the_server_restarts():
    cam = FakeMjpegCamera(level=60, fps=30)
    port = cam.port
    src = open_source(cam.url, read_timeout=2.0, max_backoff=0.5)
    got = []
    try:
        src.open()
        assert src.is_live and (src.width, src.height) == (160, 120)
        _collect(src, 0.5, got)
        before = len(got)
        assert before > 0 and all(abs(m - 60) < 3 for _, m in got)

        cam.stop()  # unplugged: the stream ends, reconnects are refused
        gap = []
        _collect(src, 0.8, gap)
        assert len(gap) <= 2  # at most what was already in flight

        cam = FakeMjpegCamera(port=port, level=180, fps=30)  # plugged back in, same port
        after = []
        deadline = time.monotonic() + 15  # backoff is capped at 0.5 s: this is slack
        while time.monotonic() < deadline and not any(abs(m - 180) < 3 for _, m in after):
            _collect(src, 0.2, after)
        _collect(src, 0.3, after)
        assert src.reconnects >= 1
        new = [m for _, m in after if abs(m - 180) < 3]
        assert len(new) >= 3  # frames continue, from the restarted server
        stamps = [t for t, _ in got + gap + after]
        assert stamps == sorted(stamps)
    finally:
        src.close()
        cam.stop()


def test_reader_keeps_only_the_newest_frame():
    with FakeMjpegCamera(fps=50) as cam:
        with open_source(cam.url) as src:
            assert src.read()[0] is ReadStatus.OK
            time.sleep(0.5)  # a slow consumer: ~25 frames arrive meanwhile
            status, _, ts = src.read()
            assert status is ReadStatus.OK
            assert src.skipped >= 5
            assert time.monotonic() - ts < 0.3  # fresh, not the oldest of a backlog


def test_close_stops_the_reader_thread():
    with FakeMjpegCamera() as cam:
        src = open_source(cam.url).open()
        name = f"stream-reader {cam.url}"
        assert any(t.name == name for t in threading.enumerate())
        src.close()
        assert not any(t.name == name and t.is_alive() for t in threading.enumerate())


def test_gives_up_with_error_status_when_asked():
    cam = FakeMjpegCamera()
    src = open_source(cam.url, read_timeout=1.0, give_up_after=0.5, max_backoff=0.25).open()
    try:
        cam.stop()
        statuses = set()
        end = time.monotonic() + 10
        while time.monotonic() < end and ReadStatus.ERROR not in statuses:
            statuses.add(src.read(timeout=0.2)[0])
        assert ReadStatus.ERROR in statuses
    finally:
        src.close()


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_stream_is_refused_quickly():
    url = f"http://127.0.0.1:{_free_port()}/video"
    start = time.monotonic()
    with pytest.raises(InputError, match="no video from this stream") as info:
        open_source(url, open_timeout=2.0).open()
    assert url in str(info.value)
    assert time.monotonic() - start < 10  # generous: bounded, not the OS TCP timeout


@pytest.mark.parametrize("scheme", ["http", "rtsp"])
def test_silent_server_is_refused_after_the_open_timeout(scheme):
    import socket

    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        url = f"{scheme}://127.0.0.1:{server.getsockname()[1]}/video"
        start = time.monotonic()
        with pytest.raises(InputError, match="no video from this stream"):
            open_source(url, open_timeout=1.0).open()
        assert time.monotonic() - start < 8  # bounded by open_timeout, not by TCP


def test_http_url_that_is_not_video_is_refused():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(InputError, match="not a video"):
            open_source(f"http://127.0.0.1:{server.server_address[1]}/", open_timeout=2.0).open()
    finally:
        server.shutdown()
        server.server_close()


def test_unknown_stream_option_is_refused():
    with pytest.raises(InputError, match="unknown option"):
        open_source("rtsp://cam/x", latency=3)
