"""Turn a Flatten -> Dense classifier into a fully convolutional model (dense score maps).

MODEL is a Keras classifier (.keras, or .h5; a Keras 2 .h5 is read through tf-keras) whose head
is Flatten -> Dense (-> Dropout/Activation) ... -> Dense. The first Dense becomes a Conv2D whose
kernel covers the feature map it read, later ones 1x1 Conv2D, with the weights transferred;
softmax then applies per map cell over the class channels. On the classifier's input size the
outputs are checked to match (printed); on a larger --input-size the model slides the classifier
over the image with a stride of the product of its pooling strides and returns a score map.

With --onnx the model is also written as an ONNX heatmap model (its window, stride and
preprocessing embedded) for ``lanecam run VIDEO --heatmap lane_map.onnx``.

Examples:
  lanecam convolutionalize lane_classifier.h5 -o lane_map.keras
  lanecam convolutionalize lane_classifier.h5 -o lane_map.keras --input-size 128x320
  lanecam convolutionalize lane_classifier.h5 -o lane_map.keras --input-size 96x320 \\
      --onnx lane_map.onnx --crop-top 0.45 --scale 0.00392157
"""

from pathlib import Path

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.options import finite_float

__all__ = ["add_arguments", "run", "parse_input_size"]


def add_arguments(parser) -> None:
    """The ``convolutionalize`` flags."""
    from lanecam.engines.keras_code_scan import add_trust_flag

    add_trust_flag(parser)
    a = parser.add_argument
    a("model", metavar="MODEL", help="the classifier: .keras or .h5")
    a("-o", "--output", metavar="OUT.keras", required=True,
      help="where to write the convolutional model (.keras, or .h5)")
    a("--input-size", metavar="HxW",
      help="input size of the new model: HxW (>= the classifier's) for a dense map, 'any' for "
           "a free size (default: the classifier's, giving a 1x1 map)")
    a("--atol", type=finite_float, default=1e-5,
      help="largest accepted |difference| from the classifier (default 1e-5)")
    g = parser.add_argument_group("heatmap model for `lanecam run --heatmap`")
    g.add_argument("--onnx", metavar="OUT.onnx", help="also write the model as ONNX (needs a "
                   "fixed --input-size) with its heatmap description")
    g.add_argument("--color", choices=("rgb", "bgr"), default="rgb",
                   help="channel order the classifier was trained on (rgb)")
    g.add_argument("--scale", type=finite_float, default=1.0 / 255.0,
                   help="pixel multiplier the classifier was trained with (1/255)")
    g.add_argument("--crop-top", type=finite_float, default=0.0,
                   help="fraction of the frame height above the model's input (0)")
    g.add_argument("--crop-bottom", type=finite_float, default=0.0,
                   help="fraction of the frame height below the model's input (0)")
    g.add_argument("--lane-class", type=int, default=1,
                   help="the class whose score is drawn (1)")


def parse_input_size(text):
    """``"HxW"`` -> (H, W); ``"any"`` -> (None, None); None -> None."""
    if text is None:
        return None
    if str(text).strip().lower() == "any":
        return (None, None)
    parts = str(text).lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise InputError(f"--input-size: expected HxW such as 128x320, or 'any', got {text!r}")
    return int(parts[0]), int(parts[1])


def _size(hw) -> str:
    return "x".join("?" if v is None else str(v) for v in hw)


def _report(model_path, result, out: Path, atol: float) -> None:
    plan = result.plan
    h, w, c = plan.input_shape
    fh, fw, fc = plan.feature_shape
    print(f"convolutionalize: {model_path} ({plan.kind} {type(plan.model).__name__} "
          f"'{plan.model.name}', input {h}x{w}x{c}): head {plan.describe_head()}")
    first = True
    for layer in plan.head:
        if type(layer).__name__ != "Dense":
            continue
        kernel = f"{fh}x{fw}" if first else "1x1"
        src = f" on {fh}x{fw}x{fc}" if first else ""
        print(f"  {layer.name}: Dense({layer.units}){src} -> Conv2D({layer.units}, {kernel})")
        first = False
    print(f"check at {h}x{w}: max |conv - classifier| = {result.same_size_diff:.3g} "
          f"(<= {atol:g})")
    sy, sx = result.stride
    out_shape = _size(result.output_shape[:2]) + f"x{result.output_shape[2]}"
    print(f"output map {out_shape}: one cell per {h}x{w} window, stride {sy:g}x{sx:g} px")
    if result.window_diff is not None:
        print(f"sliding-window check: max |map cell - classifier on its window| = "
              f"{result.window_diff:.3g} (<= {atol:g})")
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {out}")


def run(args) -> int:
    """Convert, check, save; returns 0 (errors are raised as LanecamError)."""
    from lanecam.engines.keras_code_scan import apply_trust_flag

    apply_trust_flag(args)
    from lanecam.tools.convolutionalize.convert import convolutionalize

    model = Path(args.model)
    if not model.is_file():
        raise InputError(f"{model}: model file not found (expected a .keras or .h5 classifier)")
    out = Path(args.output)
    if out.suffix.lower() not in (".keras", ".h5"):
        raise InputError(f"-o {out}: expected a .keras or .h5 file name")
    if not out.parent.is_dir():
        raise InputError(f"-o {out}: folder {out.parent} does not exist")
    if not args.atol > 0:
        raise InputError(f"--atol: expected a positive number, got {args.atol}")
    size = parse_input_size(args.input_size)
    if args.onnx:
        onnx_out = Path(args.onnx)
        if onnx_out.suffix.lower() != ".onnx" or not onnx_out.parent.is_dir():
            raise InputError(f"--onnx {onnx_out}: expected a .onnx file in an existing folder")
        if size is None or None in size:
            raise InputError("--onnx needs a fixed --input-size HxW (the heatmap model's size)")
    result = convolutionalize(model, input_size=size, atol=args.atol)
    if args.onnx:
        from lanecam.pipeline.heatmap.spec import HeatmapSpec

        # validate the preprocessing flags before the (slow) ONNX conversion
        prep = dict(name=out.stem, color=args.color, scale=args.scale, crop_top=args.crop_top,
                    crop_bottom=args.crop_bottom, class_index=args.lane_class)
        HeatmapSpec(**prep)
    result.model.save(str(out))
    _report(model, result, out, args.atol)
    if args.onnx:
        from lanecam.tools.convolutionalize.onnx_heatmap import export_heatmap_onnx

        diff = export_heatmap_onnx(result, onnx_out, **prep)
        print(f"wrote {onnx_out} (heatmap model; max |ONNX Runtime - Keras| = {diff:.3g})")
    return 0
