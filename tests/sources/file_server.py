"""A tiny HTTP file server for stream tests: serves a folder on 127.0.0.1 (with byte ranges, as
real servers do) and counts the requests for each file."""

import collections
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from .local_http import LocalHTTPServer

__all__ = ["FileServer"]


class FileServer(LocalHTTPServer):
    """Serves the files of ``folder`` at ``http://127.0.0.1:PORT/NAME`` until stopped.

    ``requests[name]`` counts the GETs of each file (a replayed clip or a playlist loaded
    again shows up there). ``Range: bytes=A-B`` requests get 206 partial content.
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.requests = collections.Counter()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                name = self.path.lstrip("/").split("?")[0]
                path = owner.folder / name
                owner.requests[name] += 1
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start, end = 0, len(data) - 1
                ranged = self.headers.get("Range", "")
                if ranged.startswith("bytes="):
                    first, _, last = ranged[len("bytes="):].partition("-")
                    start = int(first or 0)
                    end = min(int(last), end) if last else end
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206 if ranged else 200)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(end - start + 1))
                if ranged:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.end_headers()
                try:
                    self.wfile.write(data[start:end + 1])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._serve(Handler)

    def url(self, name: str) -> str:
        """The URL of file ``name``."""
        return f"http://127.0.0.1:{self.port}/{name}"
