"""MCAP files (``drive.mcap``, ``mcap://drive.mcap?topic=/cam/front``) read with the ``mcap``
library; their image messages deserialized by the libraries of their encodings.

Message encodings: ``cdr`` (ROS 2: ``ros2msg`` / ``ros2idl`` schemas) and ``ros1`` with the
``rosbags`` type system built from the file's own schemas; ``protobuf`` (what the Foxglove SDK
writes) with the ``protobuf`` runtime from the file's descriptor set; ``json``.

A file whose summary cannot be read (cut short, or written without one) is read from the
front with the streaming reader: every complete message before the damage is a frame, and
``ended_early`` says where the data stopped.
"""

import json
import logging
from typing import Callable, Dict, Iterator, Optional, Tuple

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require
from lanecam.pipeline.sources.image_msgs import IMAGE_TYPES, ImageMessage, from_foxglove, from_ros
from lanecam.pipeline.sources.recorded import RecordedSource, TopicInfo
from lanecam.pipeline.sources.uri import parse_options

__all__ = ["McapSource", "open_mcap", "message_decoder"]

log = logging.getLogger("lanecam.sources")

# what a damaged or cut file raises from inside the mcap library (its own errors, and the
# struct/EOF/value errors of a record cut in the middle)
_DAMAGE = (EOFError, ValueError, KeyError, OSError, MemoryError)


def _ros_name(name: str) -> str:
    """``sensor_msgs/Image`` (ROS 1 spelling) -> ``sensor_msgs/msg/Image`` (rosbags' names)."""
    parts = name.split("/")
    return f"{parts[0]}/msg/{parts[1]}" if len(parts) == 2 else name


def _ros_decoder(schema, encoding: str) -> Callable[[bytes], object]:
    require("rosbags.typesys", "robotics", "ROS messages in MCAP files")
    from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore

    store = get_typestore(Stores.EMPTY)
    text = schema.data.decode("utf-8")
    if schema.encoding == "ros2idl":
        store.register(get_types_from_idl(text))
    else:
        store.register(get_types_from_msg(text, _ros_name(schema.name)))
    name = _ros_name(schema.name)
    if encoding == "ros1":
        return lambda data: store.deserialize_ros1(data, name)
    return lambda data: store.deserialize_cdr(data, name)


def _protobuf_decoder(schema) -> Callable[[bytes], object]:
    require("google.protobuf", "robotics", "protobuf messages in MCAP files")
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    files = descriptor_pb2.FileDescriptorSet.FromString(schema.data)
    pool = descriptor_pool.DescriptorPool()
    for proto in files.file:
        pool.Add(proto)
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(schema.name))
    return cls.FromString


def message_decoder(schema, message_encoding: str) -> Callable[[bytes], ImageMessage]:
    """A function turning one message's bytes into an ``ImageMessage`` for a channel whose
    schema is an image type; ``InputError`` for an encoding no library here reads."""
    kind = IMAGE_TYPES[schema.name]
    if message_encoding in ("cdr", "ros1"):
        deserialize = _ros_decoder(schema, message_encoding)
        return lambda data: from_ros(deserialize(data), kind)
    if message_encoding == "protobuf":
        parse = _protobuf_decoder(schema)
        return lambda data: from_foxglove(parse(data), kind)
    if message_encoding == "json":
        return lambda data: from_foxglove(json.loads(data), kind)
    raise InputError(f"message encoding {message_encoding!r} is not supported; expected cdr, "
                     "ros1, protobuf or json")


class McapSource(RecordedSource):
    """Every message of one image topic of an MCAP file, in log-time order, as frames.

    Args: as ``RecordedSource`` (``path``: the ``.mcap`` file).
    """

    kind = "MCAP file"
    scheme = "mcap"
    expected = "an MCAP file"

    def __init__(self, uri: str, path: str, topic: Optional[str] = None, realtime: bool = False):
        super().__init__(uri, path, topic, realtime)
        self._fh = None
        self._reader = None
        self._summary = None
        self._channels: Dict[int, Tuple[object, object]] = {}  # id -> (channel, schema)
        self._cut = False  # the scan found no end of the data section

    def _open_reader(self) -> None:
        mcap_reader = require("mcap.reader", "robotics", "MCAP sources")
        from mcap.exceptions import McapError

        try:
            self._fh = open(self.path, "rb")
        except IsADirectoryError:
            raise InputError(f"{self.path}: is a folder, expected an MCAP file") from None
        try:
            self._reader = mcap_reader.make_reader(self._fh)
            self._summary = self._reader.get_summary()
        except (McapError,) + _DAMAGE as exc:
            # no readable summary: a cut file, or not MCAP at all (the scan tells)
            log.info("%s: summary unreadable (%s); reading from the front", self.path, exc)
            self._summary = None
        if self._summary is not None:
            stats = self._summary.statistics
            counts = stats.channel_message_counts if stats is not None else {}
            for cid, channel in self._summary.channels.items():
                self._channels[cid] = (channel, self._summary.schemas.get(channel.schema_id))
            self._set_topics(counts)
        else:
            self._scan()

    def _set_topics(self, counts: Dict[int, int]) -> None:
        self.topics = {}
        for cid, (channel, schema) in self._channels.items():
            count = counts.get(cid)
            prev = self.topics.get(channel.topic)
            if prev is not None and count is not None and prev.count is not None:
                count += prev.count
            self.topics[channel.topic] = TopicInfo(schema.name if schema else "(no schema)",
                                                   count)

    def _stream_records(self):
        from mcap.stream_reader import StreamReader

        self._fh.seek(0)
        return StreamReader(self._fh, skip_magic=False).records

    def _scan(self) -> None:
        """Channels and message counts from a pass over the records (no summary to read)."""
        from mcap.exceptions import McapError
        from mcap.records import Channel, DataEnd, Message, Schema

        schemas, counts, complete = {}, {}, False
        try:
            for record in self._stream_records():
                if isinstance(record, Schema):
                    schemas[record.id] = record
                elif isinstance(record, Channel):
                    self._channels[record.id] = (record, schemas.get(record.schema_id))
                elif isinstance(record, Message):
                    counts[record.channel_id] = counts.get(record.channel_id, 0) + 1
                elif isinstance(record, DataEnd):
                    complete = True
                    break
        except (McapError,) + _DAMAGE as exc:
            if not self._channels:
                raise InputError(f"{self.path}: not a readable MCAP file ({exc})") from None
        # the counts are what a cut file still holds: the frame count shown
        self._set_topics(counts)
        self._cut = not complete

    def _decoders(self):
        decoders = {}
        for cid, (channel, schema) in self._channels.items():
            if channel.topic == self.topic:
                where = f"{self.path} topic {self.topic}"
                if schema is None:
                    raise InputError(f"{where}: the channel has no schema")
                try:
                    decoders[cid] = message_decoder(schema, channel.message_encoding)
                except InputError as exc:
                    raise InputError(f"{where}: {exc}") from None
                except Exception as exc:  # noqa: BLE001 - a schema the libraries reject
                    raise InputError(f"{where}: its schema {schema.name} cannot be read "
                                     f"({type(exc).__name__}: {exc})") from None
        return decoders

    def _messages(self, topic: str) -> Iterator[Tuple[int, ImageMessage]]:
        decoders = self._decoders()
        return self._indexed(topic, decoders) if self._summary is not None \
            else self._streamed(decoders)

    def _indexed(self, topic, decoders):
        from mcap.exceptions import McapError

        done = 0
        try:
            for _, channel, message in self._reader.iter_messages(topics=[topic],
                                                                  log_time_order=True):
                yield message.log_time, self._decode(decoders[channel.id], message.data, done)
                done += 1
        except (McapError,) + _DAMAGE as exc:
            self.ended_early = (f"{self.path}: a damaged chunk after message {done} of "
                                f"{self.frame_count} on {topic} ({exc})")

    def _streamed(self, decoders):
        from mcap.exceptions import McapError
        from mcap.records import DataEnd, Message

        done = 0
        try:
            for record in self._stream_records():
                if isinstance(record, Message) and record.channel_id in decoders:
                    yield record.log_time, self._decode(decoders[record.channel_id],
                                                        record.data, done)
                    done += 1
                elif isinstance(record, DataEnd):
                    break
        except (McapError,) + _DAMAGE as exc:
            if self._cut:
                self.ended_early = (f"{self.path}: the file is cut short after message {done} "
                                    f"on {self.topic}; the rest of the recording is lost "
                                    f"({type(exc).__name__})")

    def _decode(self, decode, data, index) -> ImageMessage:
        try:
            return decode(data)
        except Exception as exc:  # noqa: BLE001 - a damaged message: skipped and counted
            log.warning("%s topic %s: message %d cannot be deserialized (%s)", self.path,
                        self.topic, index, exc)
            return ImageMessage("raw", "bgr8", b"", 0, 0, 0, None)

    def _close_reader(self) -> None:
        self._reader = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def split_query(uri: str, scheme: str) -> Tuple[str, str]:
    """``(path, query)`` of ``scheme://path?query`` (``scheme:///abs`` keeps the slash), or of
    a plain path (no query: a ``?`` in a plain path is part of the name)."""
    from urllib.parse import unquote

    prefix = f"{scheme}://"
    if not uri.lower().startswith(prefix):
        from lanecam.pipeline.sources.video_file import file_path

        return file_path(uri), ""
    path, _, query = uri[len(prefix):].partition("?")
    return unquote(path), query


def open_mcap(uri: str, **options) -> McapSource:
    """Registry factory: ``McapSource`` for ``path.mcap`` or ``mcap://path?topic=NAME``."""
    path, query = split_query(uri, "mcap")
    values = parse_options(uri, query, options, {"topic": (str, None), "realtime": (bool, False)})
    return McapSource(uri, path, values["topic"], values["realtime"])
