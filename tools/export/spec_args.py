"""The ModelSpec of the model being exported: its own sidecar, ``--spec``, and override flags."""

import math
from pathlib import Path
from typing import Optional

from lanecam.engines.modelspec import OUTPUT_KINDS, ModelSpec, spec_path_for
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.options import finite_float

__all__ = ["add_spec_arguments", "spec_from_args"]


def add_spec_arguments(parser) -> None:
    g = parser.add_argument_group("model description (foreign models; overrides the model's own spec)")
    g.add_argument("--spec", metavar="JSON", help="a ModelSpec JSON file")
    g.add_argument("--name", help="model name")
    g.add_argument("--input-size", metavar="HxW", help="input height x width, e.g. 80x160")
    g.add_argument("--color", choices=("rgb", "bgr"), help="channel order of the input")
    g.add_argument("--scale", type=finite_float,
                   help="pixel scale: x = (pixel * scale - mean) / std")
    g.add_argument("--mean", metavar="a,b,c", help="per-channel mean")
    g.add_argument("--std", metavar="a,b,c", help="per-channel std")
    g.add_argument("--crop-top", type=finite_float, help="fraction of the frame cut at the top")
    g.add_argument("--crop-bottom", type=finite_float,
                   help="fraction of the frame cut at the bottom")
    g.add_argument("--output-kind", choices=OUTPUT_KINDS, help="lane_slots or ego_area")


def _triple(text: str, flag: str):
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 3 or not all(math.isfinite(v) for v in vals):
        raise InputError(f"{flag}: expected three comma-separated finite numbers, got {text!r}")
    return vals


def _size(text: str):
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise InputError(f"--input-size: expected HxW such as 80x160, got {text!r}")
    return int(parts[0]), int(parts[1])


def _own_spec(model: Path) -> Optional[ModelSpec]:
    candidates = [spec_path_for(model)]
    if model.is_dir():
        candidates += [model / "spec.json", model / (model.name + ".spec.json")]
    for path in candidates:
        if path.is_file():
            return ModelSpec.load(path)
    return None


def spec_from_args(args, model: Path) -> ModelSpec:
    """``--spec`` or the model's sidecar spec, then each flag given on the command line.

    A foreign model without any spec must at least say ``--input-size``. ``--output-kind
    ego_area`` also sets one class ("ego") and no existence output.
    """
    base = ModelSpec.load(args.spec) if args.spec else _own_spec(model)
    changes = {}
    if base is None:
        if not args.input_size:
            raise InputError(f"{model}: no ModelSpec found next to the model; describe it with "
                             "--spec spec.json or flags (at least --input-size HxW)")
        # a foreign model sees the whole frame unless told otherwise (--crop-top)
        base = ModelSpec(name=model.stem if model.is_file() else model.name, crop_top=0.0)
    if args.name:
        changes["name"] = args.name
    if args.input_size:
        changes["input_height"], changes["input_width"] = _size(args.input_size)
    for key in ("color", "scale", "crop_top", "crop_bottom"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    if args.mean:
        changes["mean"] = _triple(args.mean, "--mean")
    if args.std:
        changes["std"] = _triple(args.std, "--std")
    if args.output_kind:
        changes["output_kind"] = args.output_kind
        if args.output_kind == "ego_area" and base.output_kind != "ego_area":
            changes.update(class_names=["ego"], exist_output=None, seg_output="ego_prob")
    return base.replace(**changes) if changes else base
