"""Keras -> ONNX for lanecam: fixed H and W, TensorRT-clean graph, ModelSpec embedded, checked.

Steps, each a small function: load (keras_io), convert with tf2onnx, name the tensors after the
spec, ONNX checker + shape inference, TensorRT compatibility rewrite/refusal (trt_compat),
metadata + sidecar spec, and a numerical check against the Keras model on real frames.
"""

import sys
from pathlib import Path

from lanecam.engines.modelspec import ModelSpec, spec_path_for
from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.lazy import require
from lanecam.pipeline.outputs import atomic_path
from lanecam.tools.export import keras_io
from lanecam.tools.export.graph import rename_tensor, set_batch_dim_name, set_spec_metadata
from lanecam.tools.export.trt_compat import make_tensorrt_compatible
from lanecam.tools.export.verify import check_frames_noted, max_abs_diff, ort_session

__all__ = ["export_keras", "ExportCheckError", "OPSET_RANGE", "name_outputs"]

OPSET_RANGE = (13, 17)  # opsets every TensorRT from 8.6 to 11.x parses


class ExportCheckError(LanecamError):
    """The exported model does not reproduce the Keras model within tolerance."""


def _input_shape(loaded: keras_io.LoadedModel, spec: ModelSpec, dynamic_batch: bool) -> tuple:
    shape = loaded.input_shape
    if len(shape) != 4 or shape[3] not in (None, 3):
        raise InputError(f"{loaded.source}: expected an NHWC image input (batch, H, W, 3), "
                         f"got {shape}")
    for axis, want, what in ((1, spec.input_height, "height"), (2, spec.input_width, "width")):
        if shape[axis] is not None and shape[axis] != want:
            raise InputError(f"{loaded.source}: model input {what} is {shape[axis]} but the "
                             f"spec says {want} (set --input-size {shape[1]}x{shape[2]})")
    return (None if dynamic_batch else 1, spec.input_height, spec.input_width, 3)


def name_outputs(model, spec: ModelSpec) -> list:
    """Rename the graph outputs to the spec's names: the rank-4 output is ``seg_output``, a
    rank-2 output is ``exist_output``. Returns the new names in graph order."""
    outputs = list(model.graph.output)
    ranks = [len(o.type.tensor_type.shape.dim) for o in outputs]
    seg = [o.name for o, r in zip(outputs, ranks) if r == 4]
    exist = [o.name for o, r in zip(outputs, ranks) if r == 2]
    if len(seg) != 1 or len(seg) + len(exist) != len(outputs) or len(exist) > 1:
        raise InputError(f"model outputs {[o.name for o in outputs]} of ranks {ranks}: expected "
                         "one per-pixel map (rank 4) and at most one existence vector (rank 2)")
    if exist and not spec.exist_output:
        raise InputError(f"model has an existence output '{exist[0]}' but the spec has no "
                         "exist_output name")
    if spec.exist_output and not exist:
        raise InputError(f"spec expects an existence output '{spec.exist_output}' but the model "
                         "has only the per-pixel output (set exist_output to null)")
    seg_dims = outputs[ranks.index(4)].type.tensor_type.shape.dim
    channels = seg_dims[3 if spec.output_layout == "NHWC" else 1].dim_value
    if channels and channels != spec.num_classes:
        raise InputError(f"per-pixel output '{seg[0]}' has {channels} channels but the spec "
                         f"names {spec.num_classes} classes {list(spec.class_names)}")
    # two passes through temporary names so swapping two names cannot collide
    plan = [(seg[0], spec.seg_output)] + ([(exist[0], spec.exist_output)] if exist else [])
    for i, (old, _) in enumerate(plan):
        rename_tensor(model, old, f"__lanecam_tmp_{i}")
    for i, (_, new) in enumerate(plan):
        rename_tensor(model, f"__lanecam_tmp_{i}", new)
    return [o.name for o in model.graph.output]


def export_keras(model_or_path, out_path, spec: ModelSpec, opset: int = 17,
                 dynamic_batch: bool = False, nchw: bool = False, check_source=None,
                 check_count: int = 16, atol: float = 1e-4, verbose: bool = True) -> Path:
    """Export a Keras model to a TensorRT-ready ONNX file described by ``spec``.

    Args:
        model_or_path: an in-memory Keras model, a ``.keras``/``.h5`` file or a SavedModel folder.
        out_path: the ``.onnx`` file to write; the spec goes next to it as ``<stem>.spec.json``.
        spec: the ModelSpec (input size, names, preprocessing) to embed; its layout is set
            from ``nchw``.
        opset: ONNX opset, within OPSET_RANGE.
        dynamic_batch: symbolic batch dimension instead of 1.
        nchw: the ONNX input is NCHW (the Keras model stays NHWC inside).
        check_source: frames for the numerical check (folder/glob/video); default real frames.
        atol: largest accepted max-abs difference between ONNX Runtime and Keras.
    Returns:
        The path written. Raises ExportCheckError (and removes the files) above tolerance.
    """
    onnx = require("onnx", "train", "exporting to ONNX")
    if not OPSET_RANGE[0] <= opset <= OPSET_RANGE[1]:
        raise InputError(f"--opset: expected {OPSET_RANGE[0]}..{OPSET_RANGE[1]} (buildable on "
                         f"TensorRT 8.6 to 11.x), got {opset}")
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".onnx":
        raise InputError(f"{out_path}: expected an output path ending in .onnx")
    spec = spec.replace(layout="NCHW" if nchw else "NHWC")
    say = print if verbose else (lambda *a, **k: None)

    loaded = keras_io.load_model(model_or_path)
    shape = _input_shape(loaded, spec, dynamic_batch)
    say(f"export: {loaded.source} ({loaded.kind}) -> {out_path}, input {shape}, opset {opset}")
    model = keras_io.convert(loaded, shape, spec.input_name, opset, nchw)

    if model.graph.input[0].name != spec.input_name:
        rename_tensor(model, model.graph.input[0].name, spec.input_name)
    output_names = name_outputs(model, spec)
    if dynamic_batch:
        set_batch_dim_name(model)
    onnx.checker.check_model(model, full_check=True)
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    for line in make_tensorrt_compatible(model):
        say(f"export: rewrote {line}")
    # which frames the numerical check uses goes into the file too: a check on noise is
    # visible to whoever later reads the model, not only in this run's output
    tensors, note = check_frames_noted(check_source, spec, check_count)
    print(f"export: numerical check frames: {note}", file=sys.stderr)
    set_spec_metadata(model, spec, {"lanecam.exported_from": loaded.kind,
                                    "lanecam.checked_on": note})
    model.producer_name = "lanecam"
    onnx.checker.check_model(model, full_check=True)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    # checked under a temporary name and renamed only when it passed: a failed or interrupted
    # export leaves no half file, and a previous model of that name stays as it was
    with atomic_path(out_path, "-o") as partial:
        onnx.save(model, str(partial))
        worst = max_abs_diff(ort_session(partial), tensors, loaded.reference, output_names,
                             nchw)
        report = ", ".join(f"{k}={v:.3g}" for k, v in worst.items())
        say(f"export: numerical check on {len(tensors)} frames: max |onnx - keras| {report} "
            f"(tolerance {atol:g})")
        if max(worst.values()) > atol:
            raise ExportCheckError(f"{out_path}: ONNX differs from the Keras model by {report}, "
                                   f"above the tolerance {atol:g}; nothing was written")
    spec.save(spec_path_for(out_path))
    return out_path
