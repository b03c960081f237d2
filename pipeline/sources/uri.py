"""URI query options (``?width=640&fps=30``) parsed against a typed schema, refusing bad values."""

import math
from typing import Any, Callable, Dict, Mapping, Tuple
from urllib.parse import parse_qsl

from lanecam.pipeline.errors import InputError

__all__ = ["parse_bool", "parse_options"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(value) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (case-insensitive), or a real bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected 0/1/true/false, got {value!r}")


def _convert(kind: Callable, value):
    if kind is bool:
        return parse_bool(value)
    if kind is int and isinstance(value, str):
        return int(value, 10)
    if kind is float:
        value = float(value)
        if not math.isfinite(value):  # NaN passes every bound check after this
            raise ValueError(value)
        return value
    return kind(value)


def parse_options(uri: str, query: str, options: Mapping[str, Any],
                  schema: Mapping[str, Tuple[Callable, Any]]) -> Dict[str, Any]:
    """Merge the URI's query string and keyword ``options`` (which win) into typed values.

    Args:
        uri: the whole URI, for error messages.
        query: the part after ``?`` (may be empty).
        options: keyword options given to ``open_source``; None values are ignored.
        schema: name -> (type, default); the type is int, float, bool or str.

    Raises:
        InputError: an unknown option, or a value of the wrong type, naming both.
    """
    raw: Dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        raw[key] = value
    raw.update({k: v for k, v in options.items() if v is not None})
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise InputError(f"{uri}: unknown option(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(sorted(schema))}")
    values = {}
    for key, (kind, default) in schema.items():
        if key not in raw:
            values[key] = default
            continue
        try:
            values[key] = _convert(kind, raw[key])
        except (TypeError, ValueError):
            expected = "a finite number" if kind is float else getattr(kind, "__name__", kind)
            raise InputError(f"{uri}: option {key}={raw[key]!r}: expected {expected}") from None
    return values
