"""The lanecam channels in Foxglove terms, shared by the MCAP sink and the live WebSocket sink.

Topics (each message stamped with the frame's time):

- ``/lanecam/image``: ``foxglove.CompressedImage``, the camera frame (the recorded JPEG/PNG
  bytes when the source had them, else the frame encoded as JPEG).
- ``/lanecam/annotations``: ``foxglove.ImageAnnotations`` for that image: one line strip per
  lane slot in the overlay's colour, the ego lane as a filled polygon, warnings as text.
- ``/lanecam/result``: the frame's full ``LaneResult`` as JSON (the ``--lanes`` native
  record), with the JSON schema ``lanecam.LaneResult``.
- ``/lanecam/geometry``: with a calibration, the geometry as plottable numbers
  (``lanecam.Geometry``: curvature, offset, lane width, departure as -1/0/1 and as text).

The Foxglove SDK (``foxglove-sdk``, the ``robotics`` extra) writes the channels; its message
classes encode the ``foxglove.*`` schemas, so nothing is serialized by hand.
"""

import json
import time
from typing import Optional

import numpy as np

from lanecam.pipeline.lazy import require
from lanecam.pipeline.sinks.jsonl import jsonable, native_record

__all__ = ["TOPICS", "FRAME_ID", "RESULT_SCHEMA", "GEOMETRY_SCHEMA", "LaneChannels",
           "import_foxglove", "frame_time_ns", "needs_camera_pixels"]

TOPICS = {"image": "/lanecam/image", "annotations": "/lanecam/annotations",
          "result": "/lanecam/result", "geometry": "/lanecam/geometry"}
FRAME_ID = "camera"
JPEG_QUALITY = 90

_NUMBER = {"type": ["number", "null"]}
GEOMETRY_SCHEMA = {
    "title": "lanecam.Geometry",
    "description": "Ego-lane geometry from the camera calibration (metres; SI units).",
    "type": "object",
    "properties": {
        "frame_id": {"type": "integer"},
        "valid": {"type": "boolean"},
        "curvature_radius_m": _NUMBER, "curvature_1pm": _NUMBER, "offset_m": _NUMBER,
        "offset_rate_mps": _NUMBER, "lane_width_m": _NUMBER,
        "departure": {"type": "string", "enum": ["none", "left", "right"]},
        "departure_side": {"type": "integer", "description": "-1 left, 0 none, 1 right"},
        "status": {"type": ["string", "null"]},
    },
}
_POINTS = {"type": "array", "items": {"type": "array", "items": {"type": "number"},
                                      "minItems": 2, "maxItems": 2}}
RESULT_SCHEMA = {
    "title": "lanecam.LaneResult",
    "description": "Everything lanecam found in one frame (the --lanes native JSON line).",
    "type": "object",
    "properties": {
        "frame_id": {"type": "integer"},
        "source_ts": _NUMBER,
        "stamp_ns": {"type": "integer"},
        "capture_ts": _NUMBER,
        "latency_ms": _NUMBER,
        "lanes": {"type": "array", "items": {"type": "object", "properties": {
            "slot": {"type": "string"}, "points": _POINTS,
            "confidence": {"type": "number"}, "exists": {"type": "number"}}}},
        "ego_polygon": {"type": ["array", "null"], "items": {"type": "array"}},
        "geometry": {"type": ["object", "null"]},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "source_name": {"type": "string"},
        "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
    },
    "required": ["frame_id", "lanes", "warnings"],
}
_SIDES = {"left": -1, "right": 1}


def import_foxglove(purpose: str):
    """The ``foxglove`` SDK module, or ``MissingDependencyError`` naming the extra."""
    return require("foxglove", "robotics", purpose)


def frame_time_ns(meta, wall_clock: bool) -> int:
    """The time a frame's messages carry, in ns: the recorded stamp (MCAP, bags); for a live
    source (``wall_clock``) the wall-clock time of its capture; else its position in the
    file (``source_ts``)."""
    stamp = getattr(meta, "stamp_ns", None)
    if stamp is not None:
        return int(stamp)
    if wall_clock:
        capture = getattr(meta, "capture_ts", None)
        age = time.monotonic() - capture if capture else 0.0
        return time.time_ns() - int(max(age, 0.0) * 1e9)
    return int(round(float(getattr(meta, "source_ts", 0.0) or 0.0) * 1e9))


def _bgr_to_rgba(colour, alpha: float = 1.0):
    b, g, r = colour
    return {"r": r / 255.0, "g": g / 255.0, "b": b / 255.0, "a": alpha}


def needs_camera_pixels(passthrough: bool, meta) -> bool:
    """Whether the image topic will encode this frame's pixels (``Sink.needs_clean_frame`` of
    the MCAP and live sinks): the image topic shows the camera, the lanes are the annotations
    topic's job, so when another output draws the overlay these sinks need the frame from
    before drawing, unless the recorded JPEG/PNG bytes (``meta.encoded``) are stored instead."""
    return not (passthrough and getattr(meta, "encoded", None) is not None)


class LaneChannels:
    """The four lanecam channels in one Foxglove ``Context`` and the per-frame messages.

    Args:
        context: the ``foxglove.Context`` the channels belong to (an MCAP writer or a
            WebSocket server is attached to the same context).
        passthrough: store a recorded JPEG/PNG frame as it is (False when the pipeline
            undistorts the frames: the annotations are in undistorted pixels).
    """

    def __init__(self, context, passthrough: bool = True):
        fox = import_foxglove("Foxglove output")
        from foxglove.channels import CompressedImageChannel, ImageAnnotationsChannel
        from foxglove import messages

        self.m = messages
        self.passthrough = passthrough
        self.context = context
        self.image = CompressedImageChannel(TOPICS["image"], context=context)
        self.annotations = ImageAnnotationsChannel(TOPICS["annotations"], context=context)
        self.result = fox.Channel(TOPICS["result"], context=context, message_encoding="json",
                                  schema=_schema(fox, RESULT_SCHEMA))
        self._fox = fox
        self.geometry = None  # made with the first geometry (only with a calibration)
        self._cv2 = None
        from lanecam.pipeline.overlay.draw import EGO_COLOR, SLOT_COLORS, WARNING_COLOR

        self._slot_colours = {k: self.m.Color(**_bgr_to_rgba(v)) for k, v in SLOT_COLORS.items()}
        self._other = self.m.Color(**_bgr_to_rgba((200, 200, 200)))
        self._ego_fill = self.m.Color(**_bgr_to_rgba(EGO_COLOR, 0.3))
        self._ego_line = self.m.Color(**_bgr_to_rgba(EGO_COLOR, 0.8))
        self._warn = self.m.Color(**_bgr_to_rgba(WARNING_COLOR))
        self._white = self.m.Color(r=1.0, g=1.0, b=1.0, a=1.0)

    # -- messages ----------------------------------------------------------------------------
    def _timestamp(self, ns: int):
        return self.m.Timestamp(sec=ns // 1_000_000_000, nsec=ns % 1_000_000_000)

    def image_message(self, frame: np.ndarray, meta, ts):
        """The frame as ``foxglove.CompressedImage``: recorded bytes or a new JPEG."""
        encoded = getattr(meta, "encoded", None) if self.passthrough else None
        if encoded is not None:
            fmt, data = encoded
        else:
            if self._cv2 is None:
                import cv2

                self._cv2 = cv2
            ok, buf = self._cv2.imencode(".jpg", frame,
                                         [self._cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise RuntimeError("OpenCV could not encode the frame as JPEG")
            fmt, data = "jpeg", buf.tobytes()
        return self.m.CompressedImage(timestamp=ts, frame_id=FRAME_ID, data=data, format=fmt)

    def annotations_message(self, result, ts):
        """Lanes (line strips), the ego lane (filled polygon) and warnings (text)."""
        m = self.m
        points = []
        for lane in result.lanes:
            pts = np.asarray(lane.points, np.float64).reshape(-1, 2)
            if len(pts) < 2:
                continue
            points.append(m.PointsAnnotation(
                timestamp=ts, type=m.PointsAnnotationType.LineStrip,
                points=[m.Point2(x=x, y=y) for x, y in pts.tolist()],
                outline_color=self._slot_colours.get(lane.slot, self._other), thickness=4.0,
                metadata=[m.KeyValuePair(key="slot", value=str(lane.slot))]))
        if result.ego_polygon is not None and len(result.ego_polygon) >= 3:
            pts = np.asarray(result.ego_polygon, np.float64).reshape(-1, 2)
            points.append(m.PointsAnnotation(
                timestamp=ts, type=m.PointsAnnotationType.LineLoop,
                points=[m.Point2(x=x, y=y) for x, y in pts.tolist()],
                outline_color=self._ego_line, fill_color=self._ego_fill, thickness=2.0,
                metadata=[m.KeyValuePair(key="slot", value="ego")]))
        texts = []
        for i, code in enumerate(getattr(result, "warnings", None) or []):
            texts.append(m.TextAnnotation(timestamp=ts, position=m.Point2(x=10.0, y=24.0 + 26 * i),
                                          text=_warning_text(code), font_size=20.0,
                                          text_color=self._white, background_color=self._warn))
        return m.ImageAnnotations(timestamp=ts, points=points, texts=texts)

    @staticmethod
    def geometry_record(result) -> Optional[dict]:
        """The plottable geometry of ``result`` (None without a calibration)."""
        g = result.geometry
        if g is None:
            return None
        departure = g.get("departure") or "none"
        record = {key: g.get(key) for key in ("valid", "curvature_radius_m", "curvature_1pm",
                                              "offset_m", "offset_rate_mps", "lane_width_m",
                                              "status")}
        record.update(frame_id=int(result.frame_id), departure=departure,
                      departure_side=_SIDES.get(departure, 0))
        return jsonable(record)

    def log(self, frame: np.ndarray, result, meta, log_time: int) -> None:
        """Log one frame's messages on every channel at ``log_time`` (ns)."""
        ts = self._timestamp(log_time)
        self.image.log(self.image_message(frame, meta, ts), log_time=log_time)
        if result is None:
            return
        self.annotations.log(self.annotations_message(result, ts), log_time=log_time)
        record = native_record(result, meta)
        self.result.log(json.dumps(record, separators=(",", ":"), allow_nan=False),
                        log_time=log_time)
        geometry = self.geometry_record(result)
        if geometry is not None:
            if self.geometry is None:
                self.geometry = self._fox.Channel(TOPICS["geometry"], context=self.context,
                                                  message_encoding="json",
                                                  schema=_schema(self._fox, GEOMETRY_SCHEMA))
            self.geometry.log(json.dumps(geometry, separators=(",", ":"), allow_nan=False),
                              log_time=log_time)

    def close(self) -> None:
        """Close the channels (a live server tells its clients they are gone)."""
        for channel in (self.image, self.annotations, self.result, self.geometry):
            if channel is not None:
                channel.close()


def _schema(fox, schema: dict):
    """A named JSON schema (Foxglove shows the name; an unnamed dict gets a hash)."""
    return fox.Schema(name=schema["title"], encoding="jsonschema",
                      data=json.dumps(schema).encode("utf-8"))


def _warning_text(code: str) -> str:
    from lanecam.pipeline.trust import WARNING_SHORT

    return WARNING_SHORT.get(code, str(code))
