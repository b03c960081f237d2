"""``--foxglove [HOST:]PORT``: the same channels as ``--mcap``, served live to Foxglove through
the Foxglove SDK's WebSocket server (open Foxglove, "Open connection",
``ws://127.0.0.1:PORT``).

Like the MJPEG preview it binds to 127.0.0.1 unless a host is given, and it is a display
sink: it gets the newest frame and never slows the pipeline (the SDK drops the oldest
messages of a client that cannot keep up).
"""

import logging

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sinks.base import Sink
from lanecam.pipeline.sinks.foxglove_msgs import (LaneChannels, frame_time_ns, import_foxglove,
                                                  needs_camera_pixels)
from lanecam.pipeline.sinks.preview import parse_bind

__all__ = ["FoxgloveLiveSink"]

log = logging.getLogger("lanecam.sinks")


class FoxgloveLiveSink(Sink):
    """Serves the lanecam channels on a Foxglove WebSocket server.

    Args:
        bind: ``PORT`` or ``HOST:PORT`` (port 0 picks a free one; ``port`` tells which).
        passthrough: as for ``McapSink``.
        wall_clock: stamp frames without a recorded time with the wall clock at capture
            (the default: a live view shows the time now).
    """

    name = "foxglove"
    is_display = True
    wants_clean_frame = True

    def __init__(self, bind: str, passthrough: bool = True, wall_clock: bool = True):
        super().__init__()
        self.host, self.port = parse_bind(bind, "--foxglove")
        self.passthrough = bool(passthrough)
        self.wall_clock = bool(wall_clock)
        self._server = None
        self._channels = None

    def _open(self) -> None:
        fox = import_foxglove("--foxglove live view")
        context = fox.Context()
        try:
            self._server = fox.start_server(name="lanecam", host=self.host, port=self.port,
                                            context=context)
        except Exception as exc:  # noqa: BLE001 - a port in use, an address not ours
            raise InputError(f"--foxglove {self.host}:{self.port}: cannot listen ({exc})") \
                from None
        self.port = self._server.port
        self._channels = LaneChannels(context, passthrough=self.passthrough)
        log.info("%s", self.describe())

    def needs_clean_frame(self, meta) -> bool:
        return needs_camera_pixels(self.passthrough, meta)

    def _write(self, frame, result, meta) -> None:
        self._channels.log(frame, result, meta, frame_time_ns(meta, self.wall_clock))

    def _close(self) -> None:
        try:
            if self._channels is not None:
                self._channels.close()
        finally:
            if self._server is not None:
                server, self._server = self._server, None
                server.stop()

    def describe(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"foxglove ws://{host}:{self.port} (Foxglove: Open connection)"
