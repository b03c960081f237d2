"""ONNX -> TensorRT plan, one small step at a time, with the branches the TensorRT versions need.

8.0/8.2 (Jetson Nano), 8.5/8.6, 10.x and 11.x: the EXPLICIT_BATCH flag only below 10, the
FP16/INT8 builder flags only where they exist (11 takes precision from the ONNX types: an
FP16-typed ONNX, or a Q/DQ ONNX for INT8, which also needs the INT8 flag on 8.x), DLA with GPU
fallback except on 11.0-11.3, a timing cache. tensorrt is imported lazily by the caller.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

from lanecam.engines.qdq import is_qdq
from lanecam.pipeline.errors import InputError, LanecamError

__all__ = ["BuildOptions", "trt_version", "onnx_precision", "network_flags", "make_config",
           "parse_onnx", "build_serialized", "trtexec_command", "PRECISIONS"]

PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class BuildOptions:
    """What to build. ``precision`` must match the ONNX on TensorRT 11 (see onnx_precision)."""

    precision: str = "fp32"
    workspace_mib: int = 1024
    dla_core: Optional[int] = None
    timing_cache: Optional[Path] = None

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise InputError(f"precision: expected one of {', '.join(PRECISIONS)}, "
                             f"got {self.precision!r}")
        if not isinstance(self.workspace_mib, int) or self.workspace_mib < 16:
            raise InputError(f"--workspace: expected at least 16 MiB, got {self.workspace_mib!r}")
        if self.dla_core is not None and (not isinstance(self.dla_core, int) or self.dla_core < 0):
            raise InputError(f"--dla: expected a core index >= 0, got {self.dla_core!r}")


def trt_version(trt) -> Tuple[int, int]:
    """(major, minor) of the imported tensorrt module."""
    parts = str(trt.__version__).split(".")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0


def onnx_precision(onnx_bytes: bytes) -> str:
    """"int8" for a Q/DQ ONNX, "fp16" for an FP16-typed one, else "fp32".

    Q/DQ is recognised from the protobuf bytes (``is_qdq``); FP16 typing needs the ``onnx``
    package, without which (a bare Jetson runtime) a non-Q/DQ model counts as "fp32".
    """
    if is_qdq(onnx_bytes):
        return "int8"
    try:
        import onnx
    except ImportError:
        return "fp32"
    model = onnx.load_from_string(onnx_bytes)
    if any(i.data_type == onnx.TensorProto.FLOAT16 for i in model.graph.initializer):
        return "fp16"
    return "fp32"


def network_flags(trt) -> int:
    """Network creation flags: EXPLICIT_BATCH only before 10 (deprecated in 10, gone in 11).
    The bit position is read from the enum: it changed between versions."""
    if trt_version(trt)[0] < 10:
        return 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    return 0


def parse_onnx(trt, builder, logger, onnx_bytes: bytes, source: str):
    """A network parsed from ONNX bytes; parser errors become one InputError naming them."""
    network = builder.create_network(network_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_bytes):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise InputError(f"{source}: TensorRT's ONNX parser rejected the model: "
                         + "; ".join(errors or ["no error message"]))
    # keep the parser alive as long as the network: its weights may live in the parser
    return network, parser


def _set_flag(trt, config, name: str) -> bool:
    flag = getattr(trt.BuilderFlag, name, None)
    if flag is None:
        return False
    config.set_flag(flag)
    return True


def make_config(trt, builder, options: BuildOptions, model_precision: str,
                timing_bytes: bytes = b"", say: Callable = print):
    """Builder config for ``options`` on this TensorRT version; returns (config, timing_cache)."""
    major, minor = trt_version(trt)
    config = builder.create_builder_config()
    workspace = options.workspace_mib << 20
    if hasattr(config, "set_memory_pool_limit"):
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    else:  # 8.0 / 8.2
        config.max_workspace_size = workspace

    want = options.precision
    if want == "int8" and model_precision != "int8":
        raise InputError("INT8 needs a Q/DQ ONNX (lanecam export --int8 --calib DIR): implicit "
                         "calibration is deprecated in TensorRT 10.1 and removed in 11")
    if want == "fp16":
        if not _set_flag(trt, config, "FP16") and model_precision != "fp16":
            raise InputError(f"TensorRT {major}.{minor} has no FP16 builder flag: precision comes "
                             "from the ONNX, build from the FP16-typed ONNX (lanecam export --fp16)")
    if want == "int8" and major < 10 and not _set_flag(trt, config, "INT8"):
        raise LanecamError(f"TensorRT {major}.{minor} lacks BuilderFlag.INT8 for a Q/DQ network")
    if want == "fp32" and model_precision != "fp32":
        say(f"note: the ONNX is {model_precision}-typed; the plan is {model_precision}, not fp32")

    if options.dla_core is not None:
        if major == 11 and minor < 4:
            raise InputError(f"--dla: TensorRT {major}.{minor} has no DLA support (11.0-11.3); "
                             "build for the GPU or use TensorRT 10.x / 11.4+")
        if not hasattr(trt, "DeviceType") or not hasattr(config, "DLA_core"):
            raise InputError(f"--dla: this TensorRT {major}.{minor} has no DLA API")
        cores = getattr(builder, "num_DLA_cores", 0)
        if options.dla_core >= cores:
            raise InputError(f"--dla {options.dla_core}: this device has {cores} DLA cores")
        if want == "fp32" and model_precision == "fp32":
            raise InputError("--dla: DLA runs FP16 or INT8 only; add --fp16 or --int8")
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = options.dla_core
        _set_flag(trt, config, "GPU_FALLBACK")

    cache = None
    if hasattr(config, "create_timing_cache"):
        cache = config.create_timing_cache(timing_bytes)
        config.set_timing_cache(cache, False)
    return config, cache


def build_serialized(trt, onnx_bytes: bytes, options: BuildOptions, source: str,
                     logger=None, say: Callable = print) -> bytes:
    """Build a plan from ONNX bytes on the current GPU; returns the serialized plan.

    Reads and updates ``options.timing_cache`` (a file) when given. One builder per build.
    """
    logger = logger or trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network, parser = parse_onnx(trt, builder, logger, onnx_bytes, source)
    timing_path = Path(options.timing_cache) if options.timing_cache else None
    timing_bytes = timing_path.read_bytes() if timing_path and timing_path.is_file() else b""
    config, _ = make_config(trt, builder, options, onnx_precision(onnx_bytes), timing_bytes, say)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise LanecamError(f"{source}: TensorRT failed to build the engine (see its log above)")
    if timing_path and hasattr(config, "get_timing_cache"):
        timing_path.parent.mkdir(parents=True, exist_ok=True)
        timing_path.write_bytes(bytes(config.get_timing_cache().serialize()))
    del parser
    return bytes(plan)


def trtexec_command(onnx_path, plan_path, options: BuildOptions, trt_major: Optional[int] = None,
                    model_precision: str = "fp32") -> str:
    """The equivalent ``trtexec`` command line (for the record, or to build on another box)."""
    parts = ["trtexec", f"--onnx={onnx_path}", f"--saveEngine={plan_path}",
             f"--memPoolSize=workspace:{options.workspace_mib}M"]
    # trtexec's --fp16/--int8 are gone in 11 like the builder flags; 11 reads the ONNX types
    if trt_major is None or trt_major < 11:
        if options.precision == "fp16":
            parts.append("--fp16")
        if options.precision == "int8":
            parts.append("--int8")
    if options.dla_core is not None:
        parts += [f"--useDLACore={options.dla_core}", "--allowGPUFallback"]
    if options.timing_cache:
        parts.append(f"--timingCacheFile={options.timing_cache}")
    return " ".join(str(p) for p in parts)

