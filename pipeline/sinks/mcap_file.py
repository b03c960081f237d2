"""``--mcap OUT.mcap``: the drive, its lanes and their geometry as an MCAP file for Foxglove.

The channels and their messages are ``foxglove_msgs.LaneChannels``; the Foxglove SDK writes
the file (``foxglove.open_mcap``), so it opens in Foxglove (and reads with the ``mcap``
library) with every message stamped with its frame's time.
"""

import os

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.outputs import PartialFile
from lanecam.pipeline.sinks.base import Sink
from lanecam.pipeline.sinks.foxglove_msgs import (LaneChannels, frame_time_ns, import_foxglove,
                                                  needs_camera_pixels)

__all__ = ["McapSink"]


class McapSink(Sink):
    """Writes every frame's image, lane annotations, result and geometry to an MCAP file.

    Args:
        path: the ``.mcap`` file (its folder must exist); written under a temporary name and
            renamed into place by ``close()`` (also after Ctrl-C or SIGTERM).
        passthrough: store recorded JPEG/PNG frames as they are (see ``LaneChannels``).
        wall_clock: stamp frames without a recorded time with the wall clock at capture
            (live sources) instead of their position in the file.
    """

    name = "mcap"
    wants_clean_frame = True

    def __init__(self, path, passthrough: bool = True, wall_clock: bool = False):
        super().__init__()
        self.path = str(path)
        self.passthrough = bool(passthrough)
        self.wall_clock = bool(wall_clock)
        self._writer = None
        self._channels = None

    def _open(self) -> None:
        fox = import_foxglove("--mcap output")
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise InputError(f"{self.path}: output folder {folder} does not exist")
        self.partial = PartialFile(self.path, "--mcap")
        context = fox.Context()
        try:
            self._writer = fox.open_mcap(str(self.partial.path), context=context,
                                         allow_overwrite=self.partial.in_place)
        except Exception as exc:  # noqa: BLE001 - the SDK raises its own error types
            raise InputError(f"--mcap {self.path}: cannot write here ({exc})") from None
        self._channels = LaneChannels(context, passthrough=self.passthrough)

    def needs_clean_frame(self, meta) -> bool:
        return needs_camera_pixels(self.passthrough, meta)

    def _write(self, frame, result, meta) -> None:
        self._channels.log(frame, result, meta, frame_time_ns(meta, self.wall_clock))

    def _close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()  # writes the summary: the file is complete and indexed

    def describe(self) -> str:
        image = "recorded images kept" if self.passthrough else "images as JPEG"
        return f"mcap {self.path} (Foxglove channels /lanecam/*, {image})"
