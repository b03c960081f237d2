"""JSON and TOML read with a nesting limit: deep nesting is a bad input, not a RecursionError.

Python's JSON and TOML parsers recurse once per level of nesting, and so does most code that
walks what they return; a file nested a few thousand levels deep (``[[[[...]]]]``) ends in a
``RecursionError`` traceback. Every JSON or TOML file a user hands lanecam (``--config``,
``--spec`` and a model's sidecar spec, ``--calibration``, label and prediction files, a Keras
model's configuration) is read through here: nested deeper than ``MAX_NESTING`` levels, it is
one ``InputError`` naming the file. Real files nest a dozen levels at most (a Keras model's
configuration, the deepest, about 11).
"""

import json
import re
from typing import Any

from lanecam.pipeline.errors import InputError

__all__ = ["MAX_NESTING", "json_loads", "toml_load", "toml_decode_error", "check_nesting"]

MAX_NESTING = 100

# a JSON string (with its escapes): brackets inside one are not nesting
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(where: str) -> InputError:
    return InputError(f"{where}: nested more than {MAX_NESTING} levels deep; expected a "
                      f"plain JSON/TOML file (at most {MAX_NESTING} levels)")


def _text_depth(text: str) -> int:
    """The deepest bracket nesting of JSON text (outside strings), without recursion."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return 0  # cannot be deeper than its number of brackets: the common case, in C speed
    depth = deepest = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def check_nesting(value: Any, where: str) -> Any:
    """``value`` (parsed JSON/TOML) when it nests at most ``MAX_NESTING`` levels, else an
    ``InputError`` naming ``where``. Walks with an explicit stack, so any depth is safe."""
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            if level > MAX_NESTING:
                raise _too_deep(where)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return value


def json_loads(text, where: str) -> Any:
    """``json.loads(text)`` for text nested at most ``MAX_NESTING`` levels.

    ``where`` names the input in the error (``"--calibration cam.json"``). Deeper text is
    refused before the parser sees it (``InputError``); invalid JSON still raises
    ``json.JSONDecodeError`` (a ``ValueError``), for the caller to word.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    if _text_depth(text) > MAX_NESTING:
        raise _too_deep(where)
    try:
        return json.loads(text)
    except RecursionError:  # not reached under the limit; kept so no traceback can leak
        raise _too_deep(where) from None


def toml_load(fh, where: str) -> dict:
    """``tomllib.load(fh)`` (``tomli`` below Python 3.11) for a file nested at most
    ``MAX_NESTING`` levels; ``InputError`` naming ``where`` for a deeper one. Invalid TOML
    still raises the parser's ``TOMLDecodeError``; ``toml_decode_error()`` is its class."""
    toml = _toml()
    try:
        data = toml.load(fh)
    except RecursionError:
        raise _too_deep(where) from None
    return check_nesting(data, where)


def toml_decode_error():
    """The TOML parser's error class (``tomllib.TOMLDecodeError``)."""
    return _toml().TOMLDecodeError


def _toml():
    try:
        import tomllib as toml
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as toml
    return toml
