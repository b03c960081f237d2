"""The part every test HTTP server shares: a threaded server on 127.0.0.1 in a daemon thread,
stopped once (by ``stop()`` or by leaving its ``with`` block)."""

import threading
from http.server import ThreadingHTTPServer

__all__ = ["LocalHTTPServer"]


class LocalHTTPServer:
    """Base of the test servers: ``_serve(Handler, port)`` starts serving; ``port`` is the
    port bound (0 asks the system for a free one)."""

    port = 0

    def _serve(self, handler, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, end the open connections' threads and free the port (once)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
