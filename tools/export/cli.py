"""Export a Keras lane model to ONNX (FP32, FP16, INT8 Q/DQ) and optionally a TensorRT plan.

MODEL is a Keras 3 .keras/.h5, a legacy Keras 1/2 .h5 (loaded through tf-keras), a SavedModel
folder, or an already exported .onnx (to make variants or a plan from it). Our own models bring
their ModelSpec (<stem>.spec.json); a foreign model is described with --spec or the flags.

Examples:
  lanecam export model.keras -o lanefcn.onnx --fp16 --int8 --calib drive.mp4
  lanecam export full_CNN_model.h5 --input-size 80x160 --color rgb --scale 1 \\
      --output-kind ego_area -o mlnd.onnx
  lanecam export lanefcn.onnx --trt --fp16 --dla 0        (on the Jetson)
"""

from pathlib import Path

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.options import finite_float
from lanecam.pipeline.outputs import atomic_path, same_file

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    from lanecam.engines.keras_code_scan import add_trust_flag
    from lanecam.tools.export.spec_args import add_spec_arguments

    add_trust_flag(parser)
    parser.add_argument("model", metavar="MODEL", help=".keras, .h5, SavedModel folder or .onnx")
    parser.add_argument("-o", "--output", metavar="OUT.onnx",
                        help="ONNX file to write (default: <model stem>.onnx here); for an .onnx "
                             "MODEL, a copy to make the variants and plans beside (default: "
                             "beside MODEL)")
    g = parser.add_argument_group("ONNX")
    g.add_argument("--opset", type=int, default=17, help="ONNX opset, 13-17 (default 17)")
    g.add_argument("--dynamic-batch", action="store_true", help="symbolic batch dimension")
    g.add_argument("--nchw", action="store_true", help="NCHW input instead of NHWC")
    g.add_argument("--check-frames", metavar="DIR",
                   help="frames for the numerical checks (default <data>/images, data: "
                        "$LANECAM_DATA, ./shared/data or ../shared/data; else random noise, "
                        "said so)")
    g.add_argument("--atol", type=finite_float, default=1e-4,
                   help="largest accepted |ONNX - Keras| (default 1e-4)")
    add_spec_arguments(parser)
    p = parser.add_argument_group("precision variants (checked on this CPU)")
    p.add_argument("--fp16", action="store_true", help="also write <out>_fp16.onnx (FP32 I/O)")
    p.add_argument("--int8", action="store_true", help="also write <out>_int8.onnx (Q/DQ)")
    p.add_argument("--calib", metavar="SRC", help="calibration frames: folder, glob or video")
    p.add_argument("--calib-count", type=int, default=64, help="calibration frames (default 64)")
    p.add_argument("--calib-method", default="minmax", help="minmax, entropy or percentile")
    p.add_argument("--eval-tusimple", metavar="DIR", help="also score each variant on a "
                   "TuSimple folder (lane_slots models)")
    t = parser.add_argument_group("TensorRT")
    t.add_argument("--trt", action="store_true", help="build TensorRT plan(s) on this GPU")
    t.add_argument("--dla", type=int, metavar="N", help="build for DLA core N (GPU fallback)")
    t.add_argument("--workspace", type=int, default=1024, metavar="MiB",
                   help="builder workspace (default 1024)")
    t.add_argument("--timing-cache", metavar="FILE", help="TensorRT timing cache file")


def _variant_path(out: Path, tag: str) -> Path:
    return out.with_name(f"{out.stem}_{tag}.onnx")


def _save_with_spec(model, path: Path, spec, flag: str) -> None:
    import onnx

    from lanecam.engines.modelspec import spec_path_for

    with atomic_path(path, flag) as partial:
        onnx.save(model, str(partial))
    spec.save(spec_path_for(path))


def _make_variants(args, out: Path, spec) -> dict:
    import onnx

    variants = {}
    if args.fp16:
        from lanecam.tools.export.fp16 import convert_to_fp16

        variants["fp16"] = _variant_path(out, "fp16")
        _save_with_spec(convert_to_fp16(onnx.load(str(out))), variants["fp16"], spec, "--fp16")
    if args.int8:
        from lanecam.calibration.int8 import CalibrationSet
        from lanecam.engines.modelspec import spec_path_for
        from lanecam.tools.export.int8 import quantize_qdq

        calib = CalibrationSet(args.calib, spec, args.calib_count)
        variants["int8"] = _variant_path(out, "int8")
        with atomic_path(variants["int8"], "--int8") as partial:
            quantize_qdq(out, partial, calib, args.calib_method)
        spec.save(spec_path_for(variants["int8"]))
        print(f"export: INT8 calibrated on {len(calib)} frames from {args.calib}")
    for tag, path in variants.items():
        print(f"export: wrote {path} ({tag})")
    return variants


def _report(args, out: Path, spec, variants: dict) -> None:
    from lanecam.tools.export.variants import compare_variants, format_reports
    import sys

    from lanecam.tools.export.verify import check_frames_noted

    nhwc, note = check_frames_noted(args.check_frames, spec, 16)
    print(f"export: variant check frames: {note}", file=sys.stderr)
    tensors = [t.transpose(0, 3, 1, 2).copy() for t in nhwc] if spec.layout == "NCHW" else nhwc
    reports = compare_variants(out, variants, spec, tensors, tusimple_dir=args.eval_tusimple)
    print(f"export: variants vs FP32 on {len(tensors)} frames ({note}; ONNX Runtime CPU, 1 "
          "thread):")
    print(format_reports(reports, spec))


def _build_plans(args, out: Path, spec, variants: dict) -> None:
    from lanecam.tools.export.trt_plan import build_plan

    targets = dict(variants) or {"fp32": out}
    for precision, onnx_path in targets.items():
        build_plan(Path(onnx_path), precision, spec, args.dla, args.workspace, args.timing_cache)


def run(args) -> int:
    from lanecam.engines.keras_code_scan import apply_trust_flag
    from lanecam.engines.modelspec import ModelSpec, spec_path_for

    apply_trust_flag(args)
    from lanecam.tools.export.spec_args import spec_from_args

    model = Path(args.model)
    if not model.exists():
        raise InputError(f"{model}: model not found")
    if args.int8 and not args.calib:
        raise InputError("--int8 needs --calib SRC (a folder, glob or video of road frames)")
    if args.dla is not None and not args.trt:
        raise InputError("--dla only applies with --trt")
    if model.suffix.lower() == ".onnx":
        from lanecam.tools.export.onnx_input import check_external_data, read_onnx_header

        # -o naming MODEL itself (any spelling, a link) means no copy: nothing is overwritten
        copy = bool(args.output) and not same_file(Path(args.output), model)
        out = Path(args.output) if copy else model
        if copy and out.suffix.lower() != ".onnx":
            raise InputError(f"-o {out}: expected a .onnx path")
        _check_paths(args, model, out, copy)
        check_external_data(model, read_onnx_header(model))  # before any step loads it
        spec = spec_from_args(args, model) if spec_path_for(model).is_file() or args.spec \
            else _spec_from_onnx(model, ModelSpec)
        if copy:
            # variants and plans are written next to ``out``: honour -o rather than writing
            # beside the input (which may be the bundled model inside the package)
            _copy_onnx(model, out, spec)
    else:
        from lanecam.tools.export.onnx_export import export_keras

        out = Path(args.output) if args.output else Path.cwd() / f"{model.stem}.onnx"
        _check_paths(args, model, out, copy=True)
        spec = spec_from_args(args, model)
        export_keras(model, out, spec, opset=args.opset, dynamic_batch=args.dynamic_batch,
                     nchw=args.nchw, check_source=args.check_frames, atol=args.atol)
        spec = ModelSpec.load(spec_path_for(out))
        print(f"export: wrote {out} and {spec_path_for(out).name}")
    variants = _make_variants(args, out, spec)
    if variants:
        _report(args, out, spec, variants)
    if args.trt:
        _build_plans(args, out, spec, variants)
    return 0


def _output_paths(args, out: Path, copy: bool) -> dict:
    """flag -> every file this export writes (``out`` and its spec only when written)."""
    from lanecam.engines.engine_cache import sidecar_path_for
    from lanecam.engines.modelspec import spec_path_for
    from lanecam.tools.export.trt_plan import plan_path_for

    files = {"-o": out, "-o (its spec)": spec_path_for(out)} if copy else {}
    tags = [tag for tag in ("fp16", "int8") if getattr(args, tag)]
    for tag in tags:
        files[f"--{tag}"] = _variant_path(out, tag)
        files[f"--{tag} (its spec)"] = spec_path_for(_variant_path(out, tag))
    if args.trt:
        # as _build_plans: a plan per variant, else one of ``out``
        for path in [_variant_path(out, tag) for tag in tags] or [out]:
            plan = plan_path_for(path, args.dla)
            files[f"--trt ({plan.name})"] = plan
            files[f"--trt ({sidecar_path_for(plan).name})"] = sidecar_path_for(plan)
    return files


def _check_paths(args, model: Path, out: Path, copy: bool) -> None:
    """No output overwrites an input or another output (also through a link or another
    spelling), and every output folder is writable: checked before anything is loaded."""
    from lanecam.pipeline.outputs import check_outputs

    check_outputs({"MODEL": str(model), "--spec": args.spec,
                   "--check-frames": args.check_frames, "--calib": args.calib,
                   "--eval-tusimple": args.eval_tusimple},
                  {flag: str(path) for flag, path in _output_paths(args, out, copy).items()})


def _copy_onnx(model: Path, out: Path, spec) -> Path:
    import shutil

    from lanecam.engines.modelspec import spec_path_for

    with atomic_path(out, "-o") as partial:
        shutil.copyfile(model, partial)
    spec.save(spec_path_for(out))
    print(f"export: copied {model} to {out} (+ {spec_path_for(out).name})")
    return out


def _spec_from_onnx(path: Path, ModelSpec):
    from lanecam.tools.export.onnx_input import read_onnx_header

    props = {p.key: p.value for p in read_onnx_header(path).metadata_props}
    spec = ModelSpec.from_metadata_props(props, f"{path} metadata")
    if spec is None:
        raise InputError(f"{path}: no ModelSpec in its metadata or next to it; use --spec")
    return spec
