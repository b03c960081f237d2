"""``lanecam export --trt``: build a TensorRT plan next to the ONNX, with its sidecar JSON, and
print the equivalent trtexec command."""

from pathlib import Path
from typing import Optional

from lanecam.engines.engine_cache import expected_sidecar, sha256_file, write_sidecar
from lanecam.engines.modelspec import ModelSpec
from lanecam.engines.tensorrt_build import BuildOptions, build_serialized, trtexec_command
from lanecam.pipeline.lazy import require
from lanecam.pipeline.outputs import write_atomic

__all__ = ["build_plan", "plan_path_for"]


def plan_path_for(onnx_path: Path, dla_core: Optional[int]) -> Path:
    dla = "" if dla_core is None else f"_dla{dla_core}"
    return onnx_path.with_name(f"{onnx_path.stem}{dla}.plan")


def build_plan(onnx_path: Path, precision: str, spec: ModelSpec, dla_core: Optional[int] = None,
               workspace_mib: int = 1024, timing_cache=None, device: int = 0) -> Path:
    """Build ``<onnx stem>.plan`` (+ ``.plan.json``) on this machine's GPU ``device``."""
    options = BuildOptions(precision, workspace_mib, dla_core,
                           Path(timing_cache) if timing_cache else None)
    plan_path = plan_path_for(onnx_path, dla_core)
    trt = None
    try:
        import tensorrt as trt
    except ImportError:
        pass
    major = int(trt.__version__.split(".")[0]) if trt else None
    print("export: equivalent trtexec command:\n  "
          + trtexec_command(onnx_path, plan_path, options, major))
    trt = require("tensorrt", "trt", "building a TensorRT plan (--trt)")
    cuda = require("pycuda.driver", "trt", "identifying the GPU for the plan sidecar")
    cuda.init()
    dev = cuda.Device(device)
    cc = dev.compute_capability()
    plan = build_serialized(trt, onnx_path.read_bytes(), options, str(onnx_path))
    write_atomic(plan_path, plan, "--trt")
    sidecar = expected_sidecar(trt.__version__, dev.name(), cc, precision, spec.input_shape,
                               dla_core, sha256_file(onnx_path))
    write_sidecar(plan_path, {**sidecar, "modelspec": spec.to_dict()})
    print(f"export: wrote {plan_path} ({precision}, TensorRT {trt.__version__}, "
          f"{dev.name()} sm{cc[0]}{cc[1]})")
    return plan_path
