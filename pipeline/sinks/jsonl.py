"""Lane results as JSON lines: one object per frame, native or TuSimple prediction format."""

import enum
import json
import math
import os
import time
from typing import Optional, Sequence

import numpy as np

from lanecam.pipeline.constants import DEFAULT_H_SAMPLES
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes.extract import tusimple_xs
from lanecam.pipeline.outputs import PartialFile
from lanecam.pipeline.sinks.base import Sink, frame_id_of

__all__ = ["JsonLinesSink", "native_record", "tusimple_record", "jsonable"]


def jsonable(value):
    """``value`` with numpy scalars/arrays turned into Python ones and non-finite floats
    into None (JSON has no inf/NaN); enums become their value."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def _latency_ms(meta) -> Optional[float]:
    capture = getattr(meta, "capture_ts", None)
    if capture is None:
        return None
    return round((time.monotonic() - capture) * 1000.0, 2)


def native_record(result, meta) -> dict:
    """The native line: frame_id, source_ts, capture_ts, latency_ms (capture to this write),
    lanes [{slot, points [[x, y]...] (0.1 px), confidence, exists}], ego_polygon, and
    geometry / source_name / stamp_ns (recorded time of MCAP and bag frames, integer ns) /
    timings_ms when present, and warnings (always: [] when none)."""
    record = {
        "frame_id": frame_id_of(result, meta),
        "source_ts": getattr(meta, "source_ts", None),
        "capture_ts": getattr(meta, "capture_ts", None),
        "latency_ms": _latency_ms(meta),
        "lanes": [{"slot": lane.slot,
                   "points": np.round(np.asarray(lane.points, np.float64), 1).tolist(),
                   "confidence": round(float(lane.confidence), 3),
                   "exists": round(float(lane.exists), 3)} for lane in result.lanes],
        "ego_polygon": (np.asarray(result.ego_polygon).astype(int).tolist()
                        if result.ego_polygon is not None else None),
    }
    if result.geometry is not None:
        record["geometry"] = result.geometry
    record["warnings"] = list(getattr(result, "warnings", []) or [])
    name = getattr(meta, "source_name", None)
    if name is not None:
        record["source_name"] = name
    stamp = getattr(meta, "stamp_ns", None)
    if stamp is not None:  # MCAP and bag sources: the recorded time, exact
        record["stamp_ns"] = int(stamp)
    if result.timings_ms:
        record["timings_ms"] = {k: round(float(v), 2) for k, v in result.timings_ms.items()}
    return jsonable(record)


def tusimple_record(result, meta, h_samples: Sequence[int], frame_width: int,
                    source_root: Optional[str] = None) -> dict:
    """A TuSimple prediction line: raw_file, lanes (x per h_samples row, -2 = none; lanes with
    no point left out), h_samples, run_time (ms: the sum of the result's stage timings, or
    capture-to-write latency when it has none)."""
    name = getattr(meta, "source_name", None)
    raw_file = name if name is not None else f"{frame_id_of(result, meta):06d}"
    if source_root:
        raw_file = f"{source_root.rstrip('/')}/{raw_file}"
    lanes = [tusimple_xs(lane, h_samples, frame_width) for lane in result.lanes]
    if result.timings_ms:
        run_time = sum(float(v) for v in result.timings_ms.values())
    else:
        run_time = _latency_ms(meta) or 0.0
    return {"raw_file": raw_file, "lanes": [xs for xs in lanes if any(x >= 0 for x in xs)],
            "h_samples": list(h_samples), "run_time": round(run_time, 2)}


class JsonLinesSink(Sink):
    """One JSON object per frame, in order, flushed per line (``tail -f`` works).

    Args:
        path: output ``.jsonl`` file (its folder must exist).
        fmt: ``"native"`` (see ``native_record``) or ``"tusimple"`` (see ``tusimple_record``).
        h_samples: TuSimple rows in frame pixels (default 160..710 step 10).
        source_root: TuSimple only: prefix for ``raw_file`` (the frame's name relative to its
            image folder, or its zero-padded frame id), so names match a label file, e.g.
            ``"clips/0601/1494453497604532231"``.
    """

    name = "lanes"

    def __init__(self, path, fmt: str = "native", h_samples=DEFAULT_H_SAMPLES,
                 source_root: Optional[str] = None):
        super().__init__()
        if fmt not in ("native", "tusimple"):
            raise InputError(f"{path}: lanes format must be native or tusimple, got {fmt!r}")
        self.path, self.fmt = str(path), fmt
        self.h_samples = [int(h) for h in h_samples]
        self.source_root = source_root
        self._fh = None

    def _open(self) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise InputError(f"{self.path}: output folder {folder} does not exist")
        self.partial = PartialFile(self.path, "--lanes")
        try:
            self._fh = open(self.partial.path, "w", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{self.path}: cannot write: {exc.strerror}") from None

    def _write(self, frame, result, meta) -> None:
        if self.fmt == "native":
            record = native_record(result, meta)
        else:
            record = tusimple_record(result, meta, self.h_samples, self.width, self.source_root)
        self._fh.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self._fh.flush()

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def describe(self) -> str:
        return f"lanes {self.path} ({self.fmt} JSON lines)"
