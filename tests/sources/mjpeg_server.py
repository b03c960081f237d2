"""A tiny MJPEG-over-HTTP camera for tests: serves numbered frames on 127.0.0.1 until stopped."""

import time
from http.server import BaseHTTPRequestHandler

import cv2
import numpy as np

from .local_http import LocalHTTPServer

__all__ = ["FakeMjpegCamera"]

BOUNDARY = "lanecamtestframe"


class FakeMjpegCamera(LocalHTTPServer):
    """An HTTP server whose ``/video`` is ``multipart/x-mixed-replace`` JPEG at ``fps``.

    Every frame is a flat grey image of brightness ``level`` so a reader can tell which
    server generation (before or after a restart) produced it. ``stop()`` closes the
    listening socket and every open stream, like a camera being unplugged.
    ``frames_per_connection`` ends each stream after that many frames (a server that accepts
    and drops at once), or with ``stall`` keeps it open and silent from then on (a camera
    that hangs); ``connections`` counts the streams served.
    """

    def __init__(self, port=0, level=60, fps=30.0, width=160, height=120,
                 frames_per_connection=None, stall=False):
        self.level, self.fps = level, fps
        self.frames_per_connection = frames_per_connection
        self.stall = stall
        self.connections = 0
        frame = np.full((height, width, 3), level, np.uint8)
        self._jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
        self.frames_sent = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                owner.connections += 1
                sent = 0
                try:
                    # frames_per_connection: a server that accepts and then drops at once
                    while not owner._stopped.is_set() and sent != owner.frames_per_connection:
                        self.wfile.write(
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(owner._jpeg)}\r\n\r\n".encode()
                            + owner._jpeg + b"\r\n")
                        self.wfile.flush()
                        owner.frames_sent += 1
                        sent += 1
                        time.sleep(1.0 / owner.fps)
                    if owner.stall:
                        owner._stopped.wait()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._serve(Handler, port)
        self.url = f"http://127.0.0.1:{self.port}/video"
