"""``lanecam run`` options: defaults, the TOML config file (keys = long flag names), checks."""

from pathlib import Path

from lanecam.pipeline.constants import DEFAULT_H_SAMPLES, range_text
from lanecam.pipeline.errors import InputError

__all__ = ["DEFAULTS", "merge_config", "parse_h_samples"]

# dest -> (default, expected TOML type(s))
_OPTIONS = {
    "source": (None, str), "output": (None, str), "lanes": (None, str),
    "lanes_format": ("native", str), "h_samples": (range_text(DEFAULT_H_SAMPLES), str),
    "display": (False, bool),
    "preview": (None, (str, int)), "images": (None, str), "model": (None, str),
    "spec": (None, str),
    "engine": ("auto", str), "engine_cache": (None, str), "calibration": (None, str),
    "realtime": (False, bool), "stats": (None, str), "threads": (None, int),
    "no_hud": (False, bool), "quiet": (False, bool), "heatmap": (None, str),
}
DEFAULTS = {k: v[0] for k, v in _OPTIONS.items()}
_CHOICES = {"lanes_format": ("native", "tusimple"),
            "engine": ("auto", "onnxruntime", "tensorrt", "keras")}


def _toml_parser():
    """The standard library's ``tomllib`` (Python 3.11+), else ``tomli``: the same parser and
    API, a base dependency on 3.8-3.10."""
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    return tomllib


def _load_toml(path: Path) -> dict:
    toml = _toml_parser()
    if not path.is_file():
        raise InputError(f"--config {path}: file not found")
    try:
        with open(path, "rb") as fh:
            return toml.load(fh)
    except toml.TOMLDecodeError as exc:
        raise InputError(f"--config {path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; the parser decodes the bytes first
        raise InputError(f"--config {path}: not valid TOML (not UTF-8 text: byte "
                         f"0x{exc.object[exc.start]:02x} at offset {exc.start})") from None


def _check(key: str, value, where: str):
    _, types = _OPTIONS[key]
    flag = "--" + key.replace("_", "-")
    if isinstance(value, bool) and types is not bool:
        raise InputError(f"{where}: {flag} expects {_type_name(types)}, got {value!r}")
    if not isinstance(value, types):
        raise InputError(f"{where}: {flag} expects {_type_name(types)}, got {value!r}")
    if key in _CHOICES and value not in _CHOICES[key]:
        raise InputError(f"{where}: {flag} expects one of {', '.join(_CHOICES[key])}, "
                         f"got {value!r}")
    if key == "threads" and value < 1:
        raise InputError(f"{where}: --threads expects a positive integer, got {value}")
    return str(value) if key == "preview" else value


def _type_name(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    names = {str: "a string", bool: "true or false", int: "an integer"}
    return " or ".join(names[t] for t in types)


def merge_config(args, defaults: dict) -> dict:
    """Options from the command line, then the config file, then the defaults.

    Raises InputError for an unknown key or a value of the wrong type (never coerced).
    """
    opts = {k: getattr(args, k, None) for k in defaults}
    if getattr(args, "config", None):
        path = Path(args.config)
        data = _load_toml(path)
        for raw_key, value in data.items():
            key = raw_key.replace("-", "_")
            if key not in defaults:
                known = ", ".join(sorted(k.replace("_", "-") for k in defaults))
                raise InputError(f"--config {path}: unknown key {raw_key!r}; expected some of: "
                                 f"{known}")
            if opts[key] is None:
                opts[key] = _check(key, value, f"--config {path}")
    for key, default in defaults.items():
        if opts[key] is None:
            opts[key] = default
    if opts["threads"] is not None and opts["threads"] < 1:
        raise InputError(f"--threads expects a positive integer, got {opts['threads']}")
    if not opts["source"]:
        raise InputError("no SOURCE given: expected a video, folder, camera, URL or pipeline "
                         "(on the command line or as `source` in --config)")
    return opts


def parse_h_samples(text: str) -> range:
    """``"A:B:S"`` -> ``range(A, B, S)`` (TuSimple rows), refused unless 0 <= A < B and S > 0."""
    parts = str(text).split(":")
    try:
        a, b, s = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"--h-samples {text!r}: expected A:B:S integers, e.g. "
                         f"{range_text(DEFAULT_H_SAMPLES)}") from None
    if not (0 <= a < b and s > 0):
        raise InputError(f"--h-samples {text!r}: expected 0 <= A < B and S > 0")
    return range(a, b, s)
