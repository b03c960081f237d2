"""Typed command configs: one dataclass per command, from which both the argparse flags and the
TOML config-file checks are made.

Each field of a config dataclass is declared with ``option(...)``: its default, help text,
flags, type, choices and bounds are written once, there. ``add_flags`` turns the fields into
argparse arguments (every default None, so a config file can fill what the command line left
out); ``load_config`` merges command line > ``--config`` TOML file > defaults, checks every
value (type, choice, bounds; never coerced) and returns the typed config.
"""

import argparse
import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Tuple, Type, TypeVar, Union

from lanecam.pipeline.errors import InputError

__all__ = ["finite_float", "int_at_least", "SEED", "option", "source_option", "stream_option",
           "stream_settings", "STREAM_SETTINGS", "add_flags", "load_config", "load_toml",
           "max_threads", "Bound"]

C = TypeVar("C")
# an inclusive bound: a number, or a function giving it (evaluated when checked)
Bound = Optional[Union[int, float, Callable[[], Union[int, float]]]]

_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", float: "a number"}


def finite_float(text: str) -> float:
    """The argparse ``type`` of every float option of every command: a finite number.

    ``float`` alone takes "nan", "inf" and "-inf", and NaN then passes every bound check
    (``nan < low`` and ``nan > high`` are both False) to fail later with a traceback; they
    are refused here, when the command line is parsed (argparse: one line, exit 2).
    """
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def int_at_least(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer from ``low`` (to ``high``), refused when the command
    line is parsed (one line, exit 2) rather than deep inside numpy or an empty loop."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f"{low} or more" if high is None else f"{low} to {high}"
            raise argparse.ArgumentTypeError(f"expected {span}, got {value}")
        return value
    parse.__name__ = "integer"   # argparse names the type in its messages
    return parse


SEED = int_at_least(0, 2**32 - 1)   # a numpy random seed


@dataclass(frozen=True)
class _Spec:
    help: str
    kind: type
    flags: Tuple[str, ...]
    positional: bool
    metavar: Optional[str]
    choices: Optional[Tuple[Any, ...]]
    low: Bound
    high: Bound
    also: Tuple[type, ...]  # other TOML types accepted (converted with ``kind``)
    cli: bool  # False: config-file only
    parse: Optional[Callable[[Any], Any]] = None  # value -> value, ValueError("expected ...")


def option(default: Any = None, *, help: str, kind: type = str, flags: Sequence[str] = (),
           positional: bool = False, metavar: Optional[str] = None,
           choices: Optional[Sequence[Any]] = None, low: Bound = None, high: Bound = None,
           also: Sequence[type] = (), cli: bool = True,
           parse: Optional[Callable[[Any], Any]] = None):
    """A config field with its command-line flag and its checks.

    Args:
        default: the value when neither the command line nor the config file sets it.
        help: the flag's help text.
        kind: str, int, float or bool (a bool is a ``store_true`` flag).
        flags: extra flag spellings (``"-o"``); ``--long-name`` from the field name is added.
        positional: a positional argument (optional on the command line, ``nargs="?"``).
        metavar, choices: as in argparse.
        low, high: inclusive bounds for numbers (a number or a function returning one).
        also: other TOML types accepted and converted with ``kind`` (``--preview`` takes a
            port number or ``"host:port"``).
        cli: False for a config-file-only setting.
        parse: for a value of more than one form (``--crop-top 0.1`` or ``auto``): takes the
            text or TOML value and returns the value, or raises ``ValueError`` whose text says
            what was expected; replaces the ``kind`` and bound checks.
    """
    spec = _Spec(help, kind, tuple(flags), positional, metavar,
                 tuple(choices) if choices is not None else None, low, high, tuple(also), cli,
                 parse)
    return field(default=default, metadata={"option": spec})


def source_option(help: str):
    """The optional positional SOURCE of a command (``lanecam run SOURCE``)."""
    return option(positional=True, metavar="SOURCE", help=help)


# Timeouts of network sources (rtsp://, http(s)://), written once: the stream source takes its
# defaults and bounds from here, and so do the flags and config keys of every command with a
# SOURCE. name -> (default, low, high, help); seconds.
STREAM_SETTINGS = {
    "open_timeout": (5.0, 0.1, 600.0, "seconds to connect to a stream and get its first frame"),
    "read_timeout": (5.0, 0.1, 600.0, "seconds a stream may stay silent before it counts as "
                                      "dropped and is reconnected"),
    "max_backoff": (4.0, 0.25, 600.0, "longest wait between reconnect attempts (the wait "
                                      "starts at 0.25 s and doubles while reconnecting fails "
                                      "or the new connection drops at once)"),
    "give_up_after": (0.0, 0.0, 604_800.0, "seconds without a frame after which a dropped "
                                           "stream is an error (0: keep reconnecting, as for a "
                                           "camera that will come back)"),
}


def stream_option(name: str):
    """A stream timeout (a key of ``STREAM_SETTINGS``) as a config field: unset (None) unless
    given, so the source's own default applies; bounds checked when parsed."""
    default, low, high, text = STREAM_SETTINGS[name]
    return option(kind=float, metavar="S", low=low, high=high,
                  help=f"{text}; rtsp:// and http(s):// sources only (default {default:g})")


def stream_settings(config, uri: Optional[str]) -> dict:
    """The stream timeouts set in ``config`` (its ``stream_option`` fields that are not None),
    as keywords for ``open_source``.

    Raises ``InputError`` naming the flag when one is set for a SOURCE that is not a network
    stream: a timeout that silently does nothing would hide a mistake.
    """
    given = {name: getattr(config, name) for name in STREAM_SETTINGS
             if getattr(config, name, None) is not None}
    if given and uri:
        from lanecam.pipeline.sources.registry import find_plugin

        if find_plugin(uri).name != "stream":
            flags = ", ".join(_flag(name) for name in given)
            raise InputError(f"{flags}: only for rtsp:// and http(s):// streams, not for "
                             f"{uri}")
    return given


def _options(config_cls) -> Sequence[Tuple[str, _Spec, Any]]:
    return [(f.name, f.metadata["option"], f.default) for f in dataclasses.fields(config_cls)
            if "option" in f.metadata]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_flags(parser, config_cls, skip: Sequence[str] = ()) -> None:
    """Add one argparse argument per ``option`` field of ``config_cls`` (defaults None)."""
    for name, spec, default in _options(config_cls):
        if not spec.cli or name in skip:
            continue
        shown = f" (default {default})" if default not in (None, False, "") else ""
        kwargs = {"help": spec.help + shown, "default": None}
        if spec.kind is bool:
            kwargs["action"] = "store_true"
        elif spec.parse is not None:
            kwargs["type"] = str    # checked by spec.parse with the config file's values
            if spec.metavar:
                kwargs["metavar"] = spec.metavar
        else:
            kwargs["type"] = {int: int, float: finite_float}.get(spec.kind, str)
            if spec.metavar:
                kwargs["metavar"] = spec.metavar
            if spec.choices:
                kwargs["choices"] = spec.choices
        if spec.positional:
            parser.add_argument(name, nargs="?", **kwargs)
        else:
            parser.add_argument(*spec.flags, _flag(name), dest=name, **kwargs)
    parser.add_argument("--config", metavar="FILE",
                        help="TOML file whose keys are these flags' long names "
                             "(flags on the command line win)")


def load_toml(path) -> dict:
    """A TOML file as a dict; one ``InputError`` line for a missing, non-UTF-8 or invalid file.

    ``tomllib`` on Python 3.11+, ``tomli`` (the same parser and API) below, with the nesting
    limit of ``pipeline.safe_load``.
    """
    from lanecam.pipeline.safe_load import toml_decode_error, toml_load

    path = Path(path)
    if not path.is_file():
        raise InputError(f"--config {path}: file not found")
    try:
        with open(path, "rb") as fh:
            return toml_load(fh, f"--config {path}")
    except toml_decode_error() as exc:
        raise InputError(f"--config {path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; the parser decodes the bytes first
        raise InputError(f"--config {path}: not valid TOML (not UTF-8 text: byte "
                         f"0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    except OSError as exc:
        raise InputError(f"--config {path}: cannot be read ({exc.strerror})") from None


def _bound(value: Bound):
    return value() if callable(value) else value


def _check(name: str, spec: _Spec, value, where: str):
    flag = _flag(name)
    if spec.parse is not None:
        try:
            return spec.parse(value)
        except ValueError as exc:
            raise InputError(f"{where}: {flag} expects {exc}, got {value!r}") from None
    kinds = (spec.kind,) + spec.also
    names = " or ".join(_TYPE_NAMES[k] for k in kinds)
    # bool is an int in Python; a TOML ``true`` for a number (or 1 for a switch) is refused
    if isinstance(value, bool) != (spec.kind is bool) and bool not in spec.also:
        raise InputError(f"{where}: {flag} expects {names}, got {value!r}")
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kinds):
        raise InputError(f"{where}: {flag} expects {names}, got {value!r}")
    if not isinstance(value, spec.kind):
        value = spec.kind(value)
    if spec.kind is float and not math.isfinite(value):  # TOML has nan and inf too
        raise InputError(f"{where}: {flag} expects a finite number, got {value!r}")
    if spec.choices and value not in spec.choices:
        raise InputError(f"{where}: {flag} expects one of {', '.join(map(str, spec.choices))}, "
                         f"got {value!r}")
    low, high = _bound(spec.low), _bound(spec.high)
    if (low is not None and value < low) or (high is not None and value > high):
        span = (f"between {low} and {high}" if low is not None and high is not None
                else f">= {low}" if low is not None else f"<= {high}")
        raise InputError(f"{where}: {flag} expects a value {span}, got {value!r}")
    return value


def load_config(config_cls: Type[C], args=None, **overrides) -> C:
    """The typed config: command line (``args``, an argparse namespace) > ``--config`` TOML
    file (``args.config``) > the fields' defaults; every value checked.

    ``overrides`` (field -> value) act like command-line values (for callers without argparse).
    Raises ``InputError`` naming the flag or the config file for an unknown key or a value of
    the wrong type, outside its choices or outside its bounds.
    """
    opts = _options(config_cls)
    values = {}
    for name, spec, _ in opts:
        value = overrides.get(name, getattr(args, name, None) if args is not None else None)
        if value is not None:
            values[name] = _check(name, spec, value, "command line")
    path = getattr(args, "config", None) if args is not None else None
    if path:
        by_name = {name: spec for name, spec, _ in opts}
        for raw_key, value in load_toml(path).items():
            key = raw_key.replace("-", "_")
            if key not in by_name:
                known = ", ".join(sorted(n.replace("_", "-") for n in by_name))
                raise InputError(f"--config {path}: unknown key {raw_key!r}; expected some of: "
                                 f"{known}")
            if key not in values:
                values[key] = _check(key, by_name[key], value, f"--config {path}")
    return config_cls(**values)


def max_threads() -> int:
    """The largest thread count an option accepts: four per core (more only costs memory)."""
    return 4 * (os.cpu_count() or 1)
