"""MJPEG preview sink read by a real HTTP client."""

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sinks import MjpegPreviewSink
from lanecam.pipeline.sinks.preview import host_allowed, parse_bind


def read_parts(response, count, timeout=10.0):
    """``count`` JPEG parts from a multipart/x-mixed-replace response, parsed by their headers."""
    ctype = response.getheader("Content-Type")
    assert ctype.startswith("multipart/x-mixed-replace")
    boundary = ctype.split("boundary=")[1].encode()
    parts, end = [], time.monotonic() + timeout
    while len(parts) < count and time.monotonic() < end:
        line = response.fp.readline().strip()
        if not line:
            continue
        assert line == b"--" + boundary, line
        headers = {}
        while True:
            header = response.fp.readline().strip()
            if not header:
                break
            key, _, value = header.decode().partition(":")
            headers[key.lower()] = value.strip()
        assert headers["content-type"] == "image/jpeg"
        parts.append(response.fp.read(int(headers["content-length"])))
    return parts


class Feeder:
    """Writes frames of increasing brightness to the sink from another thread (the pipeline)."""

    def __init__(self, sink, width=96, height=64):
        self.sink, self.written = sink, 0
        self._stop = threading.Event()
        self._frame = np.zeros((height, width, 3), np.uint8)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self._frame[:] = (40 + 5 * self.written) % 250
            self.sink.write(self._frame, None, None)
            self.written += 1
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        self._thread.join(2)


@pytest.fixture
def preview():
    sink = MjpegPreviewSink("127.0.0.1:0")
    sink.open(96, 64, 25.0)
    yield sink
    sink.close()


def test_page_and_stream_decode(preview):
    assert preview.url.startswith("http://127.0.0.1:")
    page = urllib.request.urlopen(preview.url, timeout=5).read().decode()
    assert '<img src="/stream"' in page
    feeder = Feeder(preview)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=5)
        conn.request("GET", "/stream")
        response = conn.getresponse()
        assert response.status == 200
        parts = read_parts(response, 5)
        conn.close()
    finally:
        feeder.stop()
    assert len(parts) == 5
    images = [cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_COLOR) for p in parts]
    assert all(img is not None and img.shape == (64, 96, 3) for img in images)
    levels = [int(img.mean()) for img in images]
    assert len(set(levels)) > 1  # new frames, not one repeated picture


def test_two_clients_share_one_encode_per_frame(preview):
    feeder = Feeder(preview)
    try:
        responses = []
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=5)
            conn.request("GET", "/stream")
            responses.append(conn.getresponse())
        for r in responses:
            assert len(read_parts(r, 4)) == 4
        assert preview.clients == 2
    finally:
        feeder.stop()
    # encodes are counted per written frame (at most), never per client
    assert preview.frames_encoded <= feeder.written


def test_no_encoding_without_viewers(preview):
    for _ in range(5):
        preview.write(np.zeros((64, 96, 3), np.uint8), None, None)
    assert preview.frames_encoded == 0 and preview.frames_written == 5


def test_unknown_path_is_404(preview):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(preview.url + "nope", timeout=5)
    assert info.value.code == 404


def test_close_ends_streams_and_frees_the_port():
    sink = MjpegPreviewSink("0")
    sink.open(96, 64, 25)
    port = sink.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/stream")
    response = conn.getresponse()
    sink.write(np.zeros((64, 96, 3), np.uint8), None, None)
    start = time.monotonic()
    sink.close()
    assert response.read() is not None  # the stream ends instead of hanging
    assert time.monotonic() - start < 5
    again = MjpegPreviewSink(f"127.0.0.1:{port}")
    again.open(96, 64, 25)
    again.close()


def test_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(InputError, match=f"port {port} is already in use"):
            MjpegPreviewSink(str(port)).open(96, 64, 25)


@pytest.mark.parametrize("text, expected", [
    ("8080", ("127.0.0.1", 8080)),
    ("0.0.0.0:9000", ("0.0.0.0", 9000)),
    ("[::1]:81", ("::1", 81)),
    (8081, ("127.0.0.1", 8081)),
])
def test_parse_bind(text, expected):
    assert parse_bind(text) == expected


@pytest.mark.parametrize("text", ["http", "host:", "70000", ":80x"])
def test_parse_bind_refuses(text):
    with pytest.raises(InputError, match=r"expected \[HOST:\]PORT"):
        parse_bind(text)


# ---- bounded connections and the Host check -------------------------------------------------

def _preview_threads():
    # handler threads are unnamed (Thread-N ...); count every thread, as a leak would show
    return threading.active_count()


def _wait_until(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _idle_sockets(port, count):
    """``count`` connections that never send a byte (a slow-loris client)."""
    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]


def _is_closed_by_server(sock) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""  # EOF: the server hung up
    except socket.timeout:
        return False
    except OSError:
        return True  # reset: hung up too


@pytest.fixture
def guarded():
    sink = MjpegPreviewSink("127.0.0.1:0", request_timeout=0.5, max_connections=8)
    sink.open(96, 64, 25.0)
    yield sink
    sink.close()


def test_idle_connections_are_bounded_and_time_out(guarded):
    before = _preview_threads()
    idle = _idle_sockets(guarded.port, 50)
    try:
        assert _wait_until(lambda: guarded.connections <= 8)
        time.sleep(0.1)
        # one thread per served connection at most (plus a few ending after their hang-up)
        assert _preview_threads() - before <= 8 + 2
        assert _wait_until(lambda: guarded.connections == 0, timeout=3.0)
        assert _wait_until(lambda: _preview_threads() <= before)
        assert all(_is_closed_by_server(s) for s in idle)
    finally:
        for s in idle:
            s.close()


def test_a_viewer_gets_frames_while_idle_sockets_are_open(guarded):
    idle = _idle_sockets(guarded.port, 50)
    feeder = Feeder(guarded)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=5)
        conn.request("GET", "/stream")
        response = conn.getresponse()
        assert response.status == 200
        assert len(read_parts(response, 3)) == 3
        # the stream outlives the request timeout: only request reading is timed
        time.sleep(0.8)
        assert len(read_parts(response, 3)) == 3
        conn.close()
    finally:
        feeder.stop()
        for s in idle:
            s.close()


def test_streams_beyond_the_cap_get_503():
    sink = MjpegPreviewSink("127.0.0.1:0", max_connections=2)
    sink.open(96, 64, 25.0)
    feeder = Feeder(sink)
    conns = []
    try:
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", sink.port, timeout=5)
            conn.request("GET", "/stream")
            assert conn.getresponse().status == 200
            conns.append(conn)
        extra = socket.create_connection(("127.0.0.1", sink.port), timeout=5)
        reply = b""
        try:
            while chunk := extra.recv(4096):
                reply += chunk
        except OSError:
            pass  # a reset after the 503 was sent is fine too
        extra.close()
        assert reply.startswith(b"HTTP/1.0 503") or reply == b""
        assert sink.connections == 2
    finally:
        feeder.stop()
        for c in conns:
            c.close()
        sink.close()


def _get(port, host_header):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.putrequest("GET", "/", skip_host=True)
    if host_header is not None:
        conn.putheader("Host", host_header)
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    return status


def test_foreign_host_header_is_403_on_loopback(preview):
    port = preview.port
    assert _get(port, "evil.example") == 403
    assert _get(port, f"evil.example:{port}") == 403
    assert _get(port, f"localhost:{port + 1 if port < 65535 else 1}") == 403
    for ok in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}",
               "LOCALHOST.", None):
        assert _get(port, ok) == 200, ok


@pytest.mark.parametrize("header, allowed", [
    ("127.0.0.1:8080", True), ("localhost", True), ("[::1]:8080", True), ("127.0.0.2", True),
    ("evil.example:8080", False), ("127.0.0.1:9999", False), ("[::1]:80", False),
    ("127.0.0.1.evil.example", False),
])
def test_host_allowed(header, allowed):
    assert host_allowed(header, "127.0.0.2", 8080) is allowed


def test_any_host_is_served_when_bound_to_all_interfaces():
    sink = MjpegPreviewSink("0.0.0.0:0")
    sink.open(96, 64, 25.0)
    try:
        assert _get(sink.port, "lanecam.lan") == 200
    finally:
        sink.close()


def test_close_does_not_wait_for_idle_connections():
    sink = MjpegPreviewSink("127.0.0.1:0", request_timeout=30.0)
    sink.open(96, 64, 25.0)
    idle = _idle_sockets(sink.port, 5)
    _wait_until(lambda: sink.connections == 5)
    start = time.monotonic()
    sink.close()
    assert time.monotonic() - start < 2.0
    for s in idle:
        s.close()
