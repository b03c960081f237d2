"""Per-frame lanes as Parquet: the schema, one row per frame, and the sink that writes them.

One file per video, one row per processed frame, in frame order; readable as one dataset::

    pd.read_parquet("OUT/lanes")                                   # pandas (pyarrow)
    duckdb.sql("SELECT * FROM 'OUT/lanes/*.parquet'")              # DuckDB

pyarrow is imported when a sink opens or the schema is asked for, never at module level
(``lanecam --help`` and the rest of the runtime work without it).
"""

from typing import List, Optional

import numpy as np

from lanecam.pipeline.outputs import PartialFile
from lanecam.pipeline.sinks.base import Sink, frame_id_of
from lanecam.pipeline.sinks.jsonl import jsonable

__all__ = ["lane_schema", "frame_row", "ParquetSink", "ROW_GROUP_FRAMES", "GEOMETRY_FIELDS"]

# frames per row group: bounds the memory of a long video and keeps row groups a useful size
ROW_GROUP_FRAMES = 1024

# the smoothed geometry's scalar fields (``GeometryEstimator``); the raw per-frame measurement
# stays in the JSON lines (--jsonl)
GEOMETRY_FIELDS = (("valid", "bool"), ("curvature_radius_m", "float64"), ("offset_m", "float64"),
                   ("lane_width_m", "float64"), ("departure", "string"),
                   ("curvature_1pm", "float64"), ("offset_rate_mps", "float64"),
                   ("status", "string"))


def _pa():
    from lanecam.pipeline.lazy import require

    return require("pyarrow", "batch", "Parquet output")


def lane_schema(metadata: Optional[dict] = None):
    """The Arrow schema of the per-frame rows (``metadata``: str -> str, stored in the file)."""
    pa = _pa()
    point = pa.struct([("x", pa.float32()), ("y", pa.float32())])
    lane = pa.struct([("slot", pa.string()), ("points", pa.list_(point)),
                      ("exists", pa.float32()), ("confidence", pa.float32())])
    types = {"bool": pa.bool_(), "float64": pa.float64(), "string": pa.string()}
    geometry = pa.struct([(name, types[kind]) for name, kind in GEOMETRY_FIELDS]
                         + [("centre_coeffs_m", pa.list_(pa.float64()))])
    return pa.schema([
        ("video_id", pa.string()),
        ("path", pa.string()),
        ("frame_id", pa.int64()),
        ("timestamp_s", pa.float64()),
        ("timestamp_ns", pa.int64()),
        ("source_name", pa.string()),
        ("lanes", pa.list_(lane)),
        ("ego_polygon", pa.list_(pa.struct([("x", pa.int32()), ("y", pa.int32())]))),
        ("geometry", geometry),
        ("warnings", pa.list_(pa.string())),
    ], metadata=metadata)


def _points(array) -> List[dict]:
    pts = np.asarray(array, np.float64).reshape(-1, 2)
    return [{"x": x, "y": y} for x, y in pts.tolist()]


def frame_row(result, meta, video_id: str, path: str) -> dict:
    """One frame's row: ids, the timestamp in the video (s; for MCAP and bag inputs the
    recorded time, also exact in ``timestamp_ns``, null for videos), lanes {slot, points,
    exists, confidence}, the ego-lane polygon, the geometry (None without a calibration),
    warnings."""
    geometry = None
    if result.geometry is not None:
        g = jsonable(result.geometry)
        geometry = {name: g.get(name) for name, _ in GEOMETRY_FIELDS}
        geometry["centre_coeffs_m"] = g.get("centre_coeffs_m")
    ego = result.ego_polygon
    return {
        "video_id": video_id,
        "path": path,
        "frame_id": frame_id_of(result, meta),
        "timestamp_s": float(getattr(meta, "source_ts", 0.0) or 0.0),
        "timestamp_ns": getattr(meta, "stamp_ns", None),
        "source_name": getattr(meta, "source_name", None),
        "lanes": [{"slot": lane.slot, "points": _points(lane.points),
                   "exists": float(lane.exists), "confidence": float(lane.confidence)}
                  for lane in result.lanes],
        "ego_polygon": None if ego is None else [{"x": int(x), "y": int(y)} for x, y in
                                                 np.asarray(ego).reshape(-1, 2).tolist()],
        "geometry": geometry,
        "warnings": [str(w) for w in (getattr(result, "warnings", None) or [])],
    }


class ParquetSink(Sink):
    """Writes one row per frame to a Parquet file, under a temporary name until closed.

    Args:
        path: the file to write (renamed into place by ``close()``; deleted by
            ``close(keep=False)``).
        video_id, source_path: stored in every row.
        metadata: str -> str stored in the file's schema metadata (the model identity...).

    Attributes:
        rows: rows written so far (flushed or buffered).
    """

    name = "parquet"

    def __init__(self, path, video_id: str, source_path: str, metadata: Optional[dict] = None):
        super().__init__()
        self.path = path
        self.video_id, self.source_path = video_id, source_path
        self.metadata = {str(k): str(v) for k, v in (metadata or {}).items()}
        self.rows = 0
        self._buffer: List[dict] = []
        self._writer = None
        self._schema = None

    def _open(self) -> None:
        _pa()  # the one-line install hint when pyarrow is missing
        import pyarrow.parquet as pq

        self._schema = lane_schema(self.metadata)
        self.partial = PartialFile(self.path, "lanes")
        self._writer = pq.ParquetWriter(str(self.partial.path), self._schema,
                                        compression="zstd")

    def _write(self, frame, result, meta) -> None:
        self._buffer.append(frame_row(result, meta, self.video_id, self.source_path))
        self.rows += 1
        if len(self._buffer) >= ROW_GROUP_FRAMES:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            table = _pa().Table.from_pylist(self._buffer, schema=self._schema)
            self._writer.write_table(table)
            self._buffer = []

    def _close(self) -> None:
        try:
            self._flush()
        finally:
            if self._writer is not None:
                self._writer.close()  # writes the footer: the file is readable from here on
                self._writer = None

    def describe(self) -> str:
        return f"lanes {self.path} (Parquet)"
