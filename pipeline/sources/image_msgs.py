"""Camera images from robotics messages (ROS ``sensor_msgs`` Image / CompressedImage, Foxglove
``RawImage`` / ``CompressedImage``) as BGR frames.

The readers (``mcap_file``, ``rosbag``) deserialize messages with their libraries and hand an
``ImageMessage`` here: the fields both message families share. Decoding is OpenCV: colour
conversion, Bayer demosaicing and JPEG/PNG decoding run in C without the GIL.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["ImageMessage", "IMAGE_TYPES", "RAW_ENCODINGS", "decode_image", "passthrough_format",
           "from_ros", "from_foxglove", "stamp_of", "check_supported"]

# message type names (ROS 2, ROS 1, Foxglove) -> "raw" or "compressed"
IMAGE_TYPES = {
    "sensor_msgs/msg/Image": "raw", "sensor_msgs/Image": "raw",
    "sensor_msgs/msg/CompressedImage": "compressed", "sensor_msgs/CompressedImage": "compressed",
    "foxglove.RawImage": "raw", "foxglove.CompressedImage": "compressed",
    "foxglove_msgs/msg/RawImage": "raw", "foxglove_msgs/msg/CompressedImage": "compressed",
}

# raw encoding -> (channels per pixel, OpenCV conversion name to BGR or None for a copy).
# ROS's "yuv422" is UYVY and "yuv422_yuy2" is YUYV; Foxglove spells them "uyvy" and "yuyv".
RAW_ENCODINGS = {
    "bgr8": (3, None), "rgb8": (3, "COLOR_RGB2BGR"), "bgra8": (4, "COLOR_BGRA2BGR"),
    "rgba8": (4, "COLOR_RGBA2BGR"), "mono8": (1, "COLOR_GRAY2BGR"), "8uc1": (1, "COLOR_GRAY2BGR"),
    "8uc3": (3, None),
    "yuv422": (2, "COLOR_YUV2BGR_UYVY"), "uyvy": (2, "COLOR_YUV2BGR_UYVY"),
    "yuv422_yuy2": (2, "COLOR_YUV2BGR_YUY2"), "yuyv": (2, "COLOR_YUV2BGR_YUY2"),
    # OpenCV names Bayer patterns after the second row: ROS rggb is OpenCV's "BG" (the
    # newer RGGB aliases are the same codes, but older OpenCV builds lack them)
    "bayer_rggb8": (1, "COLOR_BayerBG2BGR"), "bayer_bggr8": (1, "COLOR_BayerRG2BGR"),
    "bayer_gbrg8": (1, "COLOR_BayerGR2BGR"), "bayer_grbg8": (1, "COLOR_BayerGB2BGR"),
}
_COMPRESSED = ("jpeg", "jpg", "png", "webp")


@dataclass
class ImageMessage:
    """One image message, whatever its family.

    Attributes:
        kind: "raw" or "compressed".
        encoding: the raw pixel encoding (``bgr8``...) or the compressed format (``jpeg``,
            ROS's ``"bgr8; jpeg compressed bgr8"``...).
        width, height, step: raw images only (0 for compressed ones).
        data: the pixel or file bytes (bytes, memoryview or a uint8 array).
        stamp_ns: the message's own timestamp (header stamp), or None when it has none or
            it is zero.
    """

    kind: str
    encoding: str
    data: object
    width: int = 0
    height: int = 0
    step: int = 0
    stamp_ns: Optional[int] = None


def stamp_of(sec: int, nsec: int) -> Optional[int]:
    """Nanoseconds of a (sec, nsec) stamp; None for the zero stamp (unset)."""
    total = int(sec) * 1_000_000_000 + int(nsec)
    return total if total > 0 else None


def from_ros(msg, kind: str) -> ImageMessage:
    """An ``ImageMessage`` from a deserialized ROS 1 / ROS 2 Image or CompressedImage."""
    stamp = msg.header.stamp
    # ROS 1 typestores name the field nsec, ROS 2 nanosec
    nsec = getattr(stamp, "nanosec", getattr(stamp, "nsec", 0))
    ts = stamp_of(stamp.sec, nsec)
    if kind == "compressed":
        return ImageMessage("compressed", str(msg.format), msg.data, stamp_ns=ts)
    return ImageMessage("raw", str(msg.encoding), msg.data, int(msg.width), int(msg.height),
                        int(msg.step), ts)


def from_foxglove(msg, kind: str) -> ImageMessage:
    """An ``ImageMessage`` from a decoded ``foxglove.RawImage`` / ``CompressedImage``
    (protobuf message object, or the dict of a JSON-encoded one with base64 ``data``)."""
    if isinstance(msg, dict):
        import base64

        stamp = msg.get("timestamp") or {}
        ts = stamp_of(stamp.get("sec", 0), stamp.get("nsec", 0))
        data = base64.b64decode(msg.get("data", ""))
        if kind == "compressed":
            return ImageMessage("compressed", str(msg.get("format", "")), data, stamp_ns=ts)
        return ImageMessage("raw", str(msg.get("encoding", "")), data, int(msg.get("width", 0)),
                            int(msg.get("height", 0)), int(msg.get("step", 0)), ts)
    ts = stamp_of(msg.timestamp.seconds, msg.timestamp.nanos) if msg.HasField("timestamp") \
        else None
    if kind == "compressed":
        return ImageMessage("compressed", msg.format, msg.data, stamp_ns=ts)
    return ImageMessage("raw", msg.encoding, msg.data, msg.width, msg.height, msg.step, ts)


def passthrough_format(msg: ImageMessage) -> Optional[str]:
    """``"jpeg"`` or ``"png"`` when the message's bytes are a file a viewer shows as is."""
    if msg.kind != "compressed":
        return None
    fmt = msg.encoding.lower()
    if "compresseddepth" in fmt:
        return None
    if "jpeg" in fmt or "jpg" in fmt:
        return "jpeg"
    if "png" in fmt:
        return "png"
    return None


def check_supported(msg: ImageMessage, where: str) -> None:
    """Raise one ``InputError`` line for an encoding no frame can come from (depth, 16-bit,
    float), naming ``where`` (file and topic) and the supported encodings."""
    if msg.kind == "compressed":
        fmt = msg.encoding.lower()
        # an empty format is allowed: OpenCV tells JPEG from PNG by the bytes
        if "compresseddepth" in fmt or (fmt and not any(c in fmt for c in _COMPRESSED)):
            raise InputError(f"{where}: compressed format {msg.encoding!r} is not supported "
                             f"(a depth image?); expected jpeg or png")
        return
    if msg.encoding.lower() not in RAW_ENCODINGS:
        raise InputError(f"{where}: image encoding {msg.encoding!r} is not supported (a depth "
                         f"or 16-bit image?); expected one of {', '.join(RAW_ENCODINGS)}")


def _as_bytes(data) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    return np.frombuffer(data, np.uint8)


def _raw_pixels(msg: ImageMessage, channels: int) -> Optional[np.ndarray]:
    """A (height, width[, channels]) view of the message's pixels honouring ``step`` (row
    padding), or None when the data is too short for the announced size."""
    h, w = msg.height, msg.width
    step = msg.step or w * channels
    flat = _as_bytes(msg.data)
    if h <= 0 or w <= 0 or step < w * channels or flat.size < step * (h - 1) + w * channels:
        return None
    if flat.size < step * h:  # the last row's padding may be left out
        flat = np.concatenate([flat, np.zeros(step * h - flat.size, np.uint8)])
    rows = flat[:step * h].reshape(h, step)[:, :w * channels]
    return rows.reshape(h, w, channels) if channels > 1 else rows


def decode_image(cv2, msg: ImageMessage, out: Optional[np.ndarray] = None
                 ) -> Optional[np.ndarray]:
    """The message's picture as BGR uint8 (H, W, 3), written into ``out`` when it fits;
    None when the data is damaged (a truncated pixel buffer, an undecodable JPEG).

    Call ``check_supported`` first: an unsupported encoding raises ``KeyError`` here.
    """
    if msg.kind == "compressed":
        image = cv2.imdecode(_as_bytes(msg.data), cv2.IMREAD_COLOR)
        if image is None or image.ndim != 3:
            return None
        return _into(image, out)
    channels, code = RAW_ENCODINGS[msg.encoding.lower()]
    pixels = _raw_pixels(msg, channels)
    if pixels is None:
        return None
    if code is None:
        return _into(pixels, out)
    if out is not None and out.shape == (msg.height, msg.width, 3) and out.dtype == np.uint8:
        if channels == 2 or code.startswith("COLOR_Bayer"):
            # these conversions need contiguous rows (a padded step is sliced)
            pixels = np.ascontiguousarray(pixels)
        cv2.cvtColor(pixels, getattr(cv2, code), dst=out)
        return out
    return cv2.cvtColor(np.ascontiguousarray(pixels), getattr(cv2, code))


def _into(image: np.ndarray, out: Optional[np.ndarray]) -> np.ndarray:
    if out is not None and out.shape == image.shape and out.dtype == image.dtype:
        np.copyto(out, image)
        return out
    return np.ascontiguousarray(image)

