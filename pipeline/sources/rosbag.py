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
        self._inner = None  # an McapSource reading a cut MCAP storage file from the front

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
            if self._read_mcap_storage(text):
                return
            raise InputError(f"{self.path}: not a readable bag ({text}); a cut-off bag loses "
                             "its index and cannot be read") from None
        self._reader = reader
        self.topics = {name: TopicInfo(info.msgtype or "(mixed types)", info.msgcount)
                       for name, info in reader.topics.items()}

    def _read_mcap_storage(self, why: str) -> bool:
        """A ROS 2 bag whose one MCAP storage file rosbags cannot open (cut short: its index
        is at the end) is read from the front like a cut MCAP file; False when it is not
        that kind of bag or that file is unreadable too."""
        if not is_ros2_bag(self.path):
            return False
        files = sorted(Path(self.path).glob("*.mcap"))
        if len(files) != 1:
            return False
        from lanecam.pipeline.sources.mcap_file import McapSource

        inner = McapSource(self.uri, str(files[0]), self.requested_topic)
        try:
            inner._open_reader()
        except InputError:
            inner._close_reader()
            return False
        log.warning("%s: rosbags cannot open it (%s); reading %s from the front", self.path,
                    why, files[0].name)
        self._inner = inner
        self.topics = dict(inner.topics)
        # the counts the recorder wrote: how many messages a cut file lost
        for name, count in _announced_counts(self.path).items():
            if name in self.topics:
                self.topics[name] = TopicInfo(self.topics[name].msgtype, count)
        return True

    def _messages(self, topic: str) -> Iterator[Tuple[int, ImageMessage]]:
        if self._inner is not None:
            return self._inner_messages(topic)
        return self._bag_messages(topic)

    def _inner_messages(self, topic: str) -> Iterator[Tuple[int, ImageMessage]]:
        inner = self._inner
        inner.topic = topic
        done = 0
        for item in inner._messages(topic):
            yield item
            done += 1
        if inner.ended_early is not None or (self.frame_count and done < self.frame_count):
            lost = f"{self.frame_count - done} of {self.frame_count} lost" \
                if self.frame_count and done < self.frame_count else "the rest lost"
            self.ended_early = (f"{self.path}: its storage {Path(inner.path).name} is cut "
                                f"short after message {done} on {topic} ({lost})")

    def _bag_messages(self, topic: str) -> Iterator[Tuple[int, ImageMessage]]:
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
        if self._inner is not None:
            self._inner._close_reader()
            self._inner = None
        if self._reader is not None:
            reader, self._reader = self._reader, None
            try:
                reader.close()
            except Exception:  # noqa: BLE001 - closing a reader that failed part way
                pass


def _announced_counts(folder: str) -> dict:
    """Topic -> message count from a ROS 2 bag's ``metadata.yaml`` (parsed safely, with the
    YAML library rosbags itself uses); {} when it cannot be read."""
    try:
        from ruamel.yaml import YAML

        with open(os.path.join(folder, "metadata.yaml"), encoding="utf-8") as fh:
            info = YAML(typ="safe").load(fh)["rosbag2_bagfile_information"]
        return {t["topic_metadata"]["name"]: int(t["message_count"])
                for t in info["topics_with_message_count"]}
    except Exception:  # noqa: BLE001 - the counts only make the report more precise
        return {}


def open_rosbag(uri: str, **options) -> RosbagSource:
    """Registry factory: ``RosbagSource`` for a ``.bag``, a ROS 2 bag folder or
    ``rosbag://PATH?topic=NAME``."""
    path, query = split_query(uri, "rosbag")
    if os.path.basename(path) == "metadata.yaml":  # the bag's own description: its folder
        path = os.path.dirname(path) or "."
    values = parse_options(uri, query, options, {"topic": (str, None), "realtime": (bool, False)})
    return RosbagSource(uri, path.rstrip("/") or path, values["topic"], values["realtime"])
