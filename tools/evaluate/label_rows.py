"""One check of the lane rows read from files, for ``lanecam evaluate`` and ``lanecam train``.

TuSimple label rows and prediction rows (JSON lines) and CULane ``.lines.txt`` lanes are
checked when they are read, in the process that reads them (before any worker pool), so a bad
file is one ``InputError`` line naming the file and the line, never a traceback from numpy or
from a pool worker, and never garbage scored or trained on.

Every coordinate is a number (not text, null or true/false), finite, and within ``MAX_COORD``
pixels of the image origin: NaN passes no comparison (a NaN x would silently count as "no
point"), and 1e300 or -2147483649 overflow the integer pixels the lanes are drawn with. Negative
values stay what the formats mean by them (TuSimple's -2: no point on this row; CULane points
left of or above the image, clipped when drawn). A TuSimple lane has one x per ``h_samples``
row.
"""

from typing import Any, Optional, Sequence

from lanecam.pipeline.errors import InputError

__all__ = ["MAX_COORD", "MAX_RUN_TIME_MS", "coordinates", "label_row", "prediction_row",
           "lanes_match_rows"]

# px: twelve 8K frames wide; any real coordinate is far inside, any overflow far outside
MAX_COORD = 100_000.0
# a prediction's run_time (ms): the metric zeroes frames over 200 ms; a day is absurd
MAX_RUN_TIME_MS = 86_400_000.0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def coordinates(values: Any, where: str, what: str = "coordinates") -> list:
    """``values`` checked to be a list of finite numbers within +-``MAX_COORD``; returned as
    it is.

    Args:
        values: the parsed list (JSON numbers, or floats parsed from text).
        where: the file and line (``"labels.json: line 3"``), the start of the error.
        what: what the list is (``"lane 2"``, ``"h_samples"``).

    Raises:
        InputError: one line naming ``where``, ``what`` and the first bad value.
    """
    if not isinstance(values, (list, tuple)):
        raise InputError(f"{where}: {what}: expected a list of numbers, got "
                         f"{type(values).__name__}")
    for value in values:
        if not _is_number(value):
            raise InputError(f"{where}: {what}: expected numbers, got {_shown(value)}")
        # one comparison refuses NaN, the infinities and huge integers (no float overflow)
        if not abs(value) <= MAX_COORD:
            raise InputError(f"{where}: {what}: expected finite pixel coordinates within "
                             f"+-{MAX_COORD:g}, got {_shown(value)}")
    return values


def _keys(row: Any, keys: Sequence[str], where: str, what: str) -> None:
    if not isinstance(row, dict):
        raise InputError(f"{where}: expected a JSON object ({what}), got {type(row).__name__}")
    missing = [k for k in keys if k not in row]
    if missing:
        raise InputError(f"{where}: missing key(s) {', '.join(map(repr, missing))} ({what}: "
                         f"{', '.join(keys)})")
    if not isinstance(row["raw_file"], str) or not row["raw_file"]:
        raise InputError(f"{where}: raw_file: expected a file name, got {row['raw_file']!r}")


def _lanes(row: dict, where: str, rows: Optional[int]) -> None:
    lanes = row["lanes"]
    if not isinstance(lanes, list):
        raise InputError(f"{where}: lanes: expected a list of lanes (lists of x values), got "
                         f"{type(lanes).__name__}")
    for i, lane in enumerate(lanes):
        coordinates(lane, where, f"lane {i}")
    if rows is not None:
        lanes_match_rows(lanes, rows, where)


def lanes_match_rows(lanes: Sequence[Sequence[float]], rows: int, where: str,
                     of: str = "") -> None:
    """Every lane has one x per row (``rows``: the length of the h_samples, ``of``: whose
    h_samples when they are another file's)."""
    for i, lane in enumerate(lanes):
        if len(lane) != rows:
            raise InputError(f"{where}: lane {i} has {len(lane)} x values, expected one per "
                             f"row ({rows} h_samples{of})")


def label_row(row: Any, where: str) -> dict:
    """A TuSimple label row checked: ``raw_file``, ``h_samples`` (row y values) and ``lanes``
    (one x per row, negative: no point); returns it."""
    _keys(row, ("raw_file", "lanes", "h_samples"), where, "TuSimple label")
    coordinates(row["h_samples"], where, "h_samples")
    _lanes(row, where, len(row["h_samples"]))
    return row


def prediction_row(row: Any, where: str) -> dict:
    """A TuSimple prediction row checked: ``raw_file``, ``lanes``, ``run_time`` (ms, finite,
    >= 0) and, when given, ``h_samples`` matching its lanes; returns it. Whether the lanes
    have one x per row of the ground truth is checked against it (``lanes_match_rows``)."""
    _keys(row, ("raw_file", "lanes", "run_time"), where, "TuSimple prediction")
    run_time = row["run_time"]
    if not _is_number(run_time) or not 0 <= run_time <= MAX_RUN_TIME_MS:
        raise InputError(f"{where}: run_time: expected milliseconds between 0 and "
                         f"{MAX_RUN_TIME_MS:g}, got {run_time!r}")
    rows = None
    if "h_samples" in row:
        rows = len(coordinates(row["h_samples"], where, "h_samples"))
    _lanes(row, where, rows)
    return row
