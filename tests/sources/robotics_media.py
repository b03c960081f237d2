"""Small recordings made with the libraries' own writers: ROS 1 bags and ROS 2 bags (sqlite3 and
MCAP storage) with ``rosbags``, Foxglove MCAP files with ``foxglove-sdk``.

Every frame is a solid-colour picture whose colour encodes its index (``frame_colour``), with
a white bar so compressed and demosaiced frames still have structure; header stamps are
``BASE_NS + i * STEP_NS`` and log times ``LOG_DELAY_NS`` later, so a test can tell which of the
two a reader used.
"""

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pytest

BASE_NS = 1_700_000_000_123_456_789
STEP_NS = 33_333_333
LOG_DELAY_NS = 5_000_000
WIDTH, HEIGHT = 96, 64


def frame_colour(i: int):
    """The BGR colour of frame ``i`` (distinct for i < 40, repeating after 50)."""
    i %= 50
    return 40 + 4 * i, 220 - 4 * i, 60 + 3 * i


def make_frame(i: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = frame_colour(i)
    frame[:, width // 2 - 4:width // 2 + 4] = 255
    return frame


def stamp(i: int) -> int:
    return BASE_NS + i * STEP_NS


def raw_payload(frame: np.ndarray, encoding: str) -> np.ndarray:
    """``frame`` (BGR) packed as the raw ``encoding`` of a sensor_msgs Image."""
    import cv2

    if encoding == "bgr8":
        return frame.copy()
    if encoding == "rgb8":
        return frame[..., ::-1].copy()
    if encoding == "mono8":
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if encoding == "yuv422":  # ROS: UYVY
        return cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_UYVY)
    if encoding == "bayer_rggb8":
        mosaic = np.empty(frame.shape[:2], np.uint8)
        mosaic[0::2, 0::2] = frame[0::2, 0::2, 2]
        mosaic[0::2, 1::2] = frame[0::2, 1::2, 1]
        mosaic[1::2, 0::2] = frame[1::2, 0::2, 1]
        mosaic[1::2, 1::2] = frame[1::2, 1::2, 0]
        return mosaic
    if encoding == "16UC1":
        return (frame[..., 0].astype(np.uint16) * 20)
    raise ValueError(encoding)


def compressed_payload(frame: np.ndarray, fmt: str) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png" if "png" in fmt else ".jpg", frame)
    assert ok
    return data.tobytes()


def _ros_image(store, i: int, encoding: str, ros1: bool, zero_stamp: bool, frame=None):
    """A sensor_msgs Image or CompressedImage (``encoding`` jpeg/png) message."""
    T = store.types
    t = 0 if zero_stamp else stamp(i)
    time = T["builtin_interfaces/msg/Time"]
    if ros1:
        header = T["std_msgs/msg/Header"](seq=i, stamp=time(sec=t // 10**9, nanosec=t % 10**9),
                                          frame_id="cam")
    else:
        header = T["std_msgs/msg/Header"](stamp=time(sec=t // 10**9, nanosec=t % 10**9),
                                          frame_id="cam")
    frame = make_frame(i) if frame is None else frame
    if encoding in ("jpeg", "png"):
        data = np.frombuffer(compressed_payload(frame, encoding), np.uint8)
        return "sensor_msgs/msg/CompressedImage", T["sensor_msgs/msg/CompressedImage"](
            header=header, format=encoding, data=data)
    pixels = raw_payload(frame, encoding)
    data = pixels.reshape(-1).view(np.uint8) if pixels.dtype != np.uint8 else pixels.reshape(-1)
    step = pixels.shape[1] * (pixels.shape[2] if pixels.ndim == 3 else 1) * pixels.itemsize
    if encoding == "yuv422":
        step = frame.shape[1] * 2
    return "sensor_msgs/msg/Image", T["sensor_msgs/msg/Image"](
        header=header, height=frame.shape[0], width=frame.shape[1], encoding=encoding,
        is_bigendian=0, step=step, data=data.copy())


def write_ros2_bag(path, frames: int = 6, encoding: str = "bgr8", storage: str = "sqlite3",
                   topic: str = "/camera/image", others: Sequence[tuple] = (),
                   zero_stamp: bool = False) -> Path:
    """A ROS 2 bag folder; ``others``: extra (topic, encoding) image topics, or
    (topic, "string") for a std_msgs/String topic."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer(Path(path), version=9, storage_plugin=plugin) as writer:
        _fill(writer, store, frames, [(topic, encoding)] + list(others), False, zero_stamp)
    return Path(path)


def write_ros1_bag(path, frames: int = 6, encoding: str = "bgr8", topic: str = "/camera/image",
                   others: Sequence[tuple] = (), zero_stamp: bool = False) -> Path:
    """A ROS 1 ``.bag`` file."""
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC)
    with Writer(Path(path)) as writer:
        _fill(writer, store, frames, [(topic, encoding)] + list(others), True, zero_stamp)
    return Path(path)


def _fill(writer, store, frames, topics, ros1, zero_stamp):
    serialize = store.serialize_ros1 if ros1 else store.serialize_cdr
    connections = {}
    for i in range(frames):
        for topic, encoding in topics:
            if encoding == "string":
                msgtype = "std_msgs/msg/String"
                msg = store.types[msgtype](data=f"hello {i}")
            else:
                msgtype, msg = _ros_image(store, i, encoding, ros1, zero_stamp)
            if topic not in connections:
                connections[topic] = writer.add_connection(topic, msgtype, typestore=store)
            writer.write(connections[topic], stamp(i) + LOG_DELAY_NS, serialize(msg, msgtype))


def write_foxglove_mcap(path, frames: int = 6, kind: str = "compressed",
                        topics: Sequence[str] = ("/camera/image",), fmt: str = "jpeg",
                        encoding: str = "bgr8", extra_json: Optional[str] = None,
                        chunk_size: Optional[int] = None) -> Path:
    """An MCAP file written with the Foxglove SDK: ``foxglove.CompressedImage`` (``fmt``) or
    ``foxglove.RawImage`` (``encoding``) on each of ``topics``; ``extra_json`` adds a JSON
    channel of that name (not an image); ``chunk_size`` (bytes) makes many small chunks."""
    foxglove = pytest.importorskip("foxglove")
    from foxglove.channels import CompressedImageChannel, RawImageChannel
    from foxglove.messages import CompressedImage, RawImage, Timestamp

    ctx = foxglove.Context()
    options = None
    if chunk_size:
        from foxglove.mcap import MCAPWriteOptions

        options = MCAPWriteOptions(chunk_size=chunk_size)
    writer = foxglove.open_mcap(str(path), context=ctx, writer_options=options)
    make = CompressedImageChannel if kind == "compressed" else RawImageChannel
    channels = [make(t, context=ctx) for t in topics]
    other = foxglove.Channel(extra_json, context=ctx) if extra_json else None
    for i in range(frames):
        t = stamp(i)
        ts = Timestamp(sec=t // 10**9, nsec=t % 10**9)
        frame = make_frame(i)
        for channel in channels:
            if kind == "compressed":
                msg = CompressedImage(timestamp=ts, frame_id="cam",
                                      data=compressed_payload(frame, fmt), format=fmt)
            else:
                pixels = raw_payload(frame, encoding)
                msg = RawImage(timestamp=ts, frame_id="cam", width=WIDTH, height=HEIGHT,
                               encoding=encoding, step=pixels.strides[0],
                               data=pixels.tobytes())
            channel.log(msg, log_time=t + LOG_DELAY_NS)
        if other is not None:
            other.log({"i": i}, log_time=t + LOG_DELAY_NS)
    writer.close()
    return Path(path)


def rechunk(path, chunk_size: int = 30_000) -> Path:
    """Rewrite the MCAP file ``path`` in place with the ``mcap`` library's writer in chunks of
    about ``chunk_size`` bytes (rosbags writes one chunk; rosbag2's recorder writes many, so
    a cut file keeps the chunks before the cut)."""
    from mcap.reader import make_reader
    from mcap.writer import Writer

    path = Path(path)
    with open(path, "rb") as fh:
        reader = make_reader(fh)
        summary = reader.get_summary()
        messages = [(c.id, m.log_time, m.publish_time, m.sequence, m.data)
                    for _, c, m in reader.iter_messages(log_time_order=False)]
    with open(path, "wb") as out:
        writer = Writer(out, chunk_size=chunk_size)
        writer.start(profile="ros2")
        schemas = {sid: writer.register_schema(s.name, s.encoding, s.data)
                   for sid, s in summary.schemas.items()}
        channels = {cid: writer.register_channel(c.topic, c.message_encoding,
                                                 schemas[c.schema_id], c.metadata)
                    for cid, c in summary.channels.items()}
        for cid, log_time, publish_time, sequence, data in messages:
            writer.add_message(channels[cid], log_time, data, publish_time, sequence)
        writer.finish()
    return path
