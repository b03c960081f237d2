"""An MJPEG HTTP preview (``--preview [HOST:]PORT``): watch the overlay in a browser.

The server is exposed to whatever can reach its port, so it bounds what a client can hold:
a connection must send its request within ``request_timeout`` seconds, at most
``max_connections`` connections (one thread each) are served at once, and on a loopback
address the ``Host`` header must name the loopback (DNS rebinding: a web page whose name
resolves to 127.0.0.1 must not read the preview from the visitor's browser).
"""

import errno
import ipaddress
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Tuple

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sinks.base import Sink

__all__ = ["MjpegPreviewSink", "parse_bind"]

log = logging.getLogger("lanecam.sinks")

BOUNDARY = "lanecamframe"
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>lanecam preview</title>
<style>body{margin:0;background:#111}img{display:block;max-width:100%;margin:auto}</style>
</head><body><img src="/stream" alt="lanecam live preview"></body></html>
"""


def parse_bind(text, flag: str = "--preview") -> Tuple[str, int]:
    """``"8080"``, ``"0.0.0.0:8080"`` or ``"[::1]:8080"`` -> (host, port); host defaults to
    127.0.0.1 so the server is not exposed to the network unless asked. ``flag`` names the
    option in the error message."""
    text = str(text).strip()
    host, port = "127.0.0.1", text
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif ":" in text:
        host, _, port = text.rpartition(":")
    try:
        number = int(port, 10)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535 or not host:
        raise InputError(f"{flag} {text!r}: expected [HOST:]PORT with PORT 0..65535")
    return host, number


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_allowed(header: Optional[str], bound_host: str, port: int) -> bool:
    """Whether a ``Host`` header names the loopback server bound at ``bound_host:port``.

    The name must be ``127.0.0.1``, ``localhost``, ``[::1]`` or the bound address; a port,
    when given, must be ours. A request without ``Host`` (HTTP/1.0 tools) is allowed: the
    browsers used for DNS rebinding always send the attacker's name.
    """
    if header is None:
        return True
    header = header.strip().lower()
    if header.startswith("["):
        name, _, rest = header[1:].partition("]")
        given_port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, given_port = header.partition(":")
    if given_port and given_port != str(port):
        return False
    return name.rstrip(".") in {"127.0.0.1", "localhost", "::1", bound_host.lower()}


_BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
         b"Connection: close\r\nContent-Length: 31\r\n\r\ntoo many preview viewers: retry\n")


class _Server(ThreadingHTTPServer):
    """A threading HTTP server with a bounded number of connections (threads).

    A connection counts from accept to close. When all ``max_connections`` are taken, the
    oldest one still waiting for its request is dropped to make room (idle sockets cannot
    lock viewers out); when all of them are serving a stream, the newcomer gets a 503.
    """

    daemon_threads = True
    # the listen backlog (kernel memory, no thread): a burst of connections is accepted and
    # answered or dropped here instead of waiting on SYN retries
    request_queue_size = 64

    def __init__(self, addr, handler, family, max_connections: int):
        self.address_family = family
        self.max_connections = max_connections
        self._lock = threading.Lock()
        self._open = set()     # every accepted socket not yet closed
        self._waiting = {}     # accepted, request not read yet; dicts keep accept order
        super().__init__(addr, handler)

    @property
    def connections(self) -> int:
        """Connections being served (each holds a thread)."""
        return len(self._open)

    def process_request(self, request, client_address):
        with self._lock:
            if len(self._open) >= self.max_connections:
                oldest = next(iter(self._waiting), None)
                if oldest is None:
                    self._refuse(request)
                    return
                del self._waiting[oldest]
                _hang_up(oldest)  # its thread wakes with EOF and ends
            self._open.add(request)
            self._waiting[request] = None
        super().process_request(request, client_address)

    def request_read(self, request) -> None:
        """The handler parsed a request: this connection is no longer idle."""
        with self._lock:
            self._waiting.pop(request, None)

    def shutdown_request(self, request):
        with self._lock:
            self._open.discard(request)
            self._waiting.pop(request, None)
        super().shutdown_request(request)

    def hang_up_all(self) -> None:
        """Wake every handler thread (blocked reading a request or writing to a stalled viewer)."""
        with self._lock:
            for request in self._open:
                _hang_up(request)

    def _refuse(self, request) -> None:
        try:
            request.setblocking(False)  # never wait on a client in the accepting thread
            request.send(_BUSY)
        except OSError:
            pass
        super().shutdown_request(request)


def _hang_up(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone


class MjpegPreviewSink(Sink):
    """Serves the newest frame as ``multipart/x-mixed-replace`` JPEG.

    ``/`` is a tiny page showing ``/stream``. Each frame is JPEG-encoded once, in ``write``,
    and only while someone is watching; every client gets the newest frame (a slow client
    skips frames, it never holds the pipeline back). ``url`` gives the address once open
    (port 0 picks a free port).

    Args:
        bind: ``"[HOST:]PORT"``; HOST defaults to 127.0.0.1.
        quality: JPEG quality 1..100.
        request_timeout: seconds a connection may take to send its request (and a viewer
            may stall a write) before it is closed.
        max_connections: connections served at once (one thread each).
    """

    name = "preview"
    is_display = True

    def __init__(self, bind="127.0.0.1:8080", quality: int = 80, request_timeout: float = 10.0,
                 max_connections: int = 16):
        super().__init__()
        self.host, self.port = parse_bind(bind)
        if not 1 <= quality <= 100:
            raise InputError(f"--preview: JPEG quality must be 1..100, got {quality}")
        if request_timeout <= 0 or max_connections < 1:
            raise ValueError("preview: request_timeout must be > 0 and max_connections >= 1")
        self.quality = quality
        self.request_timeout = float(request_timeout)
        self.max_connections = int(max_connections)
        self.url = ""
        self.frames_encoded = 0
        self._cond = threading.Condition()
        self._jpeg: Optional[bytes] = None
        self._seq = 0
        self._clients = 0
        self._closing = False
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._cv2 = None

    @property
    def clients(self) -> int:
        """Number of connected ``/stream`` viewers."""
        return self._clients

    @property
    def connections(self) -> int:
        """Open HTTP connections, idle ones included (each holds a thread)."""
        return self._server.connections if self._server is not None else 0

    def _open(self) -> None:
        import cv2

        self._cv2 = cv2
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            self._server = _Server((self.host, self.port), self._handler_class(), family,
                                   self.max_connections)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"--preview {self.host}:{self.port}: port {self.port} is already "
                                 "in use; pick another with --preview PORT") from None
            raise InputError(f"--preview {self.host}:{self.port}: cannot listen: "
                             f"{exc.strerror or exc}") from None
        self.port = self._server.server_address[1]
        shown = f"[{self.host}]" if family == socket.AF_INET6 else self.host
        self.url = f"http://{shown}:{self.port}/"
        self._closing = False
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="preview-http", daemon=True)
        self._thread.start()
        log.info("%s", self.describe())

    def describe(self) -> str:
        return f"preview {self.url or f'http://{self.host}:{self.port}/'} (MJPEG)"

    def _write(self, frame, result, meta) -> None:
        if self._clients == 0:
            return  # nobody watching: do not spend a JPEG encode
        ok, buf = self._cv2.imencode(".jpg", frame, [self._cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return
        with self._cond:
            self._jpeg = buf.tobytes()
            self._seq += 1
            self.frames_encoded += 1
            self._cond.notify_all()

    def _next_jpeg(self, last_seq: int, timeout: float = 1.0):
        """Wait for a frame newer than ``last_seq``; (None, seq) when closing."""
        with self._cond:
            self._cond.wait_for(lambda: self._closing or self._seq != last_seq, timeout)
            if self._closing:
                return None, last_seq
            return self._jpeg, self._seq

    def _handler_class(self):
        sink = self

        check_host = is_loopback(self.host)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            timeout = sink.request_timeout  # socket timeout: idle connections are closed

            def parse_request(self):
                if not super().parse_request():
                    return False
                self.server.request_read(self.connection)
                if check_host and not host_allowed(self.headers.get("Host"), sink.host,
                                                   sink.port):
                    self._send(403, "text/plain", b"forbidden: unexpected Host header\n")
                    return False
                return True

            def log_message(self, *args):  # the terminal belongs to the status line
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                if path in ("/", "/index.html"):
                    self._send(200, "text/html; charset=utf-8", PAGE)
                elif path == "/stream":
                    self._stream()
                else:
                    self._send(404, "text/plain", b"not found: try / or /stream\n")

            def _send(self, code, ctype, body):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self):
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-cache, no-store")
                self.send_header("Pragma", "no-cache")
                self.end_headers()
                with sink._cond:
                    sink._clients += 1
                seq = 0
                try:
                    while True:
                        jpeg, new_seq = sink._next_jpeg(seq)
                        if jpeg is None and sink._closing:
                            break
                        if new_seq == seq or jpeg is None:
                            continue
                        seq = new_seq
                        self.wfile.write(
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    pass  # the viewer went away
                finally:
                    with sink._cond:
                        sink._clients -= 1

        return Handler

    def _close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.hang_up_all()  # server_close joins the handler threads
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
