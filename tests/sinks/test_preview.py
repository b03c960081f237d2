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
from lanecam.pipeline.sinks.preview import parse_bind


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
