"""ROS bags (a ROS 1 ``.bag`` file, a ROS 2 bag folder with ``metadata.yaml`` and sqlite3 or
MCAP storage) read with ``rosbags``: no ROS installation needed.

``rosbags.highlevel.AnyReader`` reads both generations and deserializes messages with the type
definitions stored in the bag itself (``rosbag://PATH?topic=NAME`` or ``--topic`` picks the
topic when there are several).
"""

import logging
import os
from pathlib import Path
from typing import Iterator, Optional, Tuple

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require
from lanecam.pipeline.sources.image_msgs import IMAGE_TYPES, ImageMessage, from_ros
from lanecam.pipeline.sources.mcap_file import split_query
from lanecam.pipeline.sources.recorded import RecordedSource, TopicInfo
from lanecam.pipeline.sources.uri import parse_options

__all__ = ["RosbagSource", "open_rosbag", "is_ros2_bag"]

log = logging.getLogger("lanecam.sources")


def is_ros2_bag(path: str) -> bool:
    """True for a ROS 2 bag folder (it holds ``metadata.yaml``)."""
    return os.path.isfile(os.path.join(path, "metadata.yaml"))


class RosbagSource(RecordedSource):
    """Every message of one image topic of a ROS 1 or ROS 2 bag, in time order, as frames.

    Args: as ``RecordedSource`` (``path``: the ``.bag`` file or the ROS 2 bag folder).
    """

    kind = "bag"
    scheme = "rosbag"
    expected = "a ROS 1 .bag file or a ROS 2 bag folder with metadata.yaml"

    def __init__(self, uri: str, path: str, topic: Optional[str] = None, realtime: bool = False):
        super().__init__(uri, path, topic, realtime)
        self._reader = None

    def _open_reader(self) -> None:
        highlevel = require("rosbags.highlevel", "robotics", "ROS bag sources")
        path = Path(self.path)
        if path.is_dir() and not is_ros2_bag(self.path):
            raise InputError(f"{self.path}: a folder without metadata.yaml; expected "
                             f"{self.expected}")
        try:
            reader = highlevel.AnyReader([path])
            reader.open()
        except Exception as exc:  # noqa: BLE001 - rosbags' reader, storage and type errors
            text = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(f"{self.path}: not a readable bag ({text}); a cut-off bag loses "
                             "its index and cannot be read") from None
        self._reader = reader
        self.topics = {name: TopicInfo(info.msgtype or "(mixed types)", info.msgcount)
                       for name, info in reader.topics.items()}

    def _messages(self, topic: str) -> Iterator[Tuple[int, ImageMessage]]:
        reader = self._reader
        connections = [c for c in reader.connections if c.topic == topic]
        kind = IMAGE_TYPES[self.topics[topic].msgtype]
        done = 0
        try:
            for connection, log_time, raw in reader.messages(connections=connections):
                try:
                    msg = from_ros(reader.deserialize(raw, connection.msgtype), kind)
                except Exception as exc:  # noqa: BLE001 - one damaged message: skipped
                    log.warning("%s topic %s: message %d cannot be deserialized (%s)",
                                self.path, topic, done, exc)
                    msg = ImageMessage("raw", "bgr8", b"")
                yield log_time, msg
                done += 1
        except Exception as exc:  # noqa: BLE001 - storage failing part way: a damaged bag
            self.ended_early = (f"{self.path}: the bag cannot be read past message {done} of "
                                f"{self.frame_count} on {topic} ({type(exc).__name__}: {exc})")

    def _close_reader(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            try:
                reader.close()
            except Exception:  # noqa: BLE001 - closing a reader that failed part way
                pass


def open_rosbag(uri: str, **options) -> RosbagSource:
    """Registry factory: ``RosbagSource`` for a ``.bag``, a ROS 2 bag folder or
    ``rosbag://PATH?topic=NAME``."""
    path, query = split_query(uri, "rosbag")
    if os.path.basename(path) == "metadata.yaml":  # the bag's own description: its folder
        path = os.path.dirname(path) or "."
    values = parse_options(uri, query, options, {"topic": (str, None), "realtime": (bool, False)})
    return RosbagSource(uri, path.rstrip("/") or path, values["topic"], values["realtime"])
