"""A test-only fake of the ``tensorrt`` Python module, following its API version by version.

Profiles give the attribute sets of 8.0/8.2 (bindings API only, ``max_workspace_size``),
8.5/8.6 (both APIs), 10.x (name-based only; EXPLICIT_BATCH deprecated) and 11.x (no
EXPLICIT_BATCH, no FP16/INT8 builder flags, no ``platform_has_fast_fp16``, no calibrators;
no DLA in 11.0-11.3). A missing attribute raises AttributeError as on the real bindings.
Plans embed the TensorRT version and compute capability and are refused elsewhere; execution
runs the ONNX with ONNX Runtime on the fake device memory of ``fake_cuda``, checking that the
stream, buffers and engine belong to the context that is current (TensorRT uses the current
context, else the device's primary one).
"""

import json
import threading
import types

import numpy as np

PROFILES = {
    "8.0": dict(version="8.0.1.6", names=False, bindings=True, pool=False, prec_flags=True,
                explicit_batch=True, calibrators=True, dla=True),
    "8.2": dict(version="8.2.1.8", names=False, bindings=True, pool=False, prec_flags=True,
                explicit_batch=True, calibrators=True, dla=True),
    "8.5": dict(version="8.5.2.2", names=True, bindings=True, pool=True, prec_flags=True,
                explicit_batch=True, calibrators=True, dla=True),
    "8.6": dict(version="8.6.1.6", names=True, bindings=True, pool=True, prec_flags=True,
                explicit_batch=True, calibrators=True, dla=True),
    "10.3": dict(version="10.3.0.26", names=True, bindings=False, pool=True, prec_flags=True,
                 explicit_batch=True, calibrators=True, dla=True),
    "10.13": dict(version="10.13.0.35", names=True, bindings=False, pool=True, prec_flags=True,
                  explicit_batch=True, calibrators=True, dla=True),
    "11.1": dict(version="11.1.0.8", names=True, bindings=False, pool=True, prec_flags=False,
                 explicit_batch=False, calibrators=False, dla=False),
    "11.4": dict(version="11.4.0.3", names=True, bindings=False, pool=True, prec_flags=False,
                 explicit_batch=False, calibrators=False, dla=True),
}

NAME_API = {"num_io_tensors", "get_tensor_name", "get_tensor_mode", "get_tensor_shape",
            "get_tensor_dtype", "set_input_shape", "set_tensor_address", "execute_async_v3"}
BINDING_API = {"num_bindings", "get_binding_name", "binding_is_input", "get_binding_shape",
               "get_binding_dtype", "set_binding_shape", "execute_async_v2"}


class Restricted:
    """Attribute access that fails, like the real bindings, for what this version lacks."""

    _missing = frozenset()

    def __getattribute__(self, name):
        if name in type(self)._missing:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return object.__getattribute__(self, name)

    def __setattr__(self, name, value):
        if name in type(self)._missing:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        object.__setattr__(self, name, value)


def _enum(name, **members):
    return type(name, (), dict(members))


def make_module(version_key: str, gpu, dla_cores: int = 2):
    """A ``tensorrt`` module with the attribute set of ``version_key`` on fake_cuda ``gpu``."""
    import onnx
    import onnxruntime as ort

    prof = PROFILES[version_key]
    major, minor = (int(v) for v in prof["version"].split(".")[:2])
    trt = types.ModuleType("tensorrt")
    trt.__version__ = prof["version"]
    trt.log = []          # (severity, message)
    trt.warnings = []
    trt.builds = []       # (flags set, config attributes) per build

    class ILogger:
        def __init__(self, *a):
            pass

    class Logger(ILogger):
        INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = 0, 1, 2, 3, 4

        def __init__(self, min_severity=2):
            self.min_severity = min_severity

        def log(self, severity, msg):
            trt.log.append((severity, msg))

    def error(logger, msg):
        logger.log(Logger.ERROR, msg)

    flag_members = {"GPU_FALLBACK": 3, "REFIT": 4}
    if prof["prec_flags"]:
        flag_members.update(FP16=0, INT8=1)
    trt.BuilderFlag = _enum("BuilderFlag", **flag_members)
    # the bit positions differ between versions: code must read them from the enum
    net_members = {"STRONGLY_TYPED": 1} if major >= 10 else {"EXPLICIT_PRECISION": 1}
    if prof["explicit_batch"]:
        net_members["EXPLICIT_BATCH"] = 0 if major < 10 else 2
    trt.NetworkDefinitionCreationFlag = _enum("NetworkDefinitionCreationFlag", **net_members)
    if prof["pool"]:
        trt.MemoryPoolType = _enum("MemoryPoolType", WORKSPACE=0, DLA_MANAGED_SRAM=1)
    if prof["dla"]:
        trt.DeviceType = _enum("DeviceType", GPU=0, DLA=1)
    if prof["calibrators"]:
        trt.IInt8EntropyCalibrator2 = type("IInt8EntropyCalibrator2", (), {})
    trt.DataType = _enum("DataType", FLOAT=0, HALF=1, INT8=2, INT32=3)
    trt.TensorIOMode = _enum("TensorIOMode", NONE=0, INPUT=1, OUTPUT=2)
    _np = {0: np.float32, 1: np.float16, 2: np.int8, 3: np.int32}

    def nptype(dt):
        return _np[dt]

    class Network:
        def __init__(self, flags):
            self.explicit = major >= 10 or bool(flags & (1 << net_members.get("EXPLICIT_BATCH", 0)))
            self.model = None

    class ParserError:
        def __init__(self, text):
            self.text = text

        def desc(self):
            return self.text

        def __str__(self):
            return self.text

    class OnnxParser:
        def __init__(self, network, logger):
            self.network, self.logger, self.errors = network, logger, []

        @property
        def num_errors(self):
            return len(self.errors)

        def get_error(self, i):
            return self.errors[i]

        def parse(self, data):
            if not self.network.explicit:
                self.errors.append(ParserError("the ONNX parser only supports networks with an "
                                               "explicit batch dimension"))
                return False
            model = onnx.load_from_string(bytes(data))
            for node in model.graph.node:
                for a in node.attribute:
                    if a.name == "coordinate_transformation_mode" and \
                            a.s == b"tf_half_pixel_for_nn":
                        self.errors.append(ParserError(f"{node.name}: Resize: unsupported "
                                                       "coordinate transformation mode"))
            if self.errors:
                return False
            self.network.model = model
            return True

    class TimingCache:
        def __init__(self, data):
            self.entries = int(data.split(b":")[-1]) if data else 0

        def serialize(self):
            return f"timing:{prof['version']}:{gpu.cc}:{self.entries}".encode()

    class BuilderConfig(Restricted):
        _missing = frozenset(
            ({"set_memory_pool_limit"} if not prof["pool"] else {"max_workspace_size"})
            | ({"default_device_type", "DLA_core"} if not prof["dla"] else set())
            | ({"int8_calibrator"} if not prof["calibrators"] else set()))

        def __init__(self):
            object.__setattr__(self, "flags", set())
            object.__setattr__(self, "pools", {})
            object.__setattr__(self, "timing", None)
            defaults = {"max_workspace_size": 0, "DLA_core": -1, "default_device_type": 0,
                        "int8_calibrator": None}
            for key, value in defaults.items():  # the real properties always exist
                if key not in BuilderConfig._missing:
                    object.__setattr__(self, key, value)

        def set_flag(self, flag):
            self.flags.add(flag)

        def get_flag(self, flag):
            return flag in self.flags

        def set_memory_pool_limit(self, pool, size):
            self.pools[pool] = size

        def create_timing_cache(self, data):
            return TimingCache(bytes(data))

        def set_timing_cache(self, cache, ignore_mismatch):
            object.__setattr__(self, "timing", cache)
            return True

        def get_timing_cache(self):
            return self.timing

    class Builder(Restricted):
        _missing = frozenset(({"platform_has_fast_fp16"} if major >= 11 else set())
                             | ({"num_DLA_cores"} if not prof["dla"] else set()))

        def __init__(self, logger):
            object.__setattr__(self, "logger", logger)
            object.__setattr__(self, "platform_has_fast_fp16", True)
            object.__setattr__(self, "num_DLA_cores", dla_cores)

        def create_network(self, flags=0):
            known = sum(1 << v for v in net_members.values())
            if flags & ~known:
                raise TypeError(f"invalid NetworkDefinitionCreationFlags {flags}")
            if major >= 10 and "EXPLICIT_BATCH" in net_members and \
                    flags & (1 << net_members["EXPLICIT_BATCH"]):
                trt.warnings.append("EXPLICIT_BATCH is deprecated and has no effect")
            return Network(flags)

        def create_builder_config(self):
            return BuilderConfig()

        def build_serialized_network(self, network, config):
            model = network.model
            ops = {n.op_type for n in model.graph.node}
            has_qdq = "QuantizeLinear" in ops
            typed16 = any(i.data_type == onnx.TensorProto.FLOAT16 for i in model.graph.initializer)
            flags = {k for k, v in flag_members.items() if v in config.flags}
            attrs = {k: getattr(config, k) for k in ("max_workspace_size", "DLA_core",
                                                      "default_device_type")
                     if k not in BuilderConfig._missing and k in config.__dict__}
            trt.builds.append((flags, attrs, dict(config.pools), config.timing is not None))
            if has_qdq and major < 10 and "INT8" not in flags:
                error(self.logger, "Network has Q/DQ layers but INT8 is not enabled")
                return None
            dla = attrs.get("default_device_type") == 1
            if dla:
                low = flags & {"FP16", "INT8"} or (major >= 11 and (typed16 or has_qdq))
                if not low:
                    error(self.logger, "DLA requires FP16 or INT8 precision")
                    return None
            if config.timing is not None:
                config.timing.entries += 1
            header = {"trt": prof["version"], "cc": ".".join(map(str, gpu.cc)),
                      "dla": attrs.get("DLA_core") if dla else None}
            return json.dumps(header).encode() + b"\n" + model.SerializeToString()

    class Runtime(Restricted):
        _missing = frozenset() if prof["dla"] else frozenset({"DLA_core"})

        def __init__(self, logger):
            object.__setattr__(self, "logger", logger)
            object.__setattr__(self, "DLA_core", 0)

        def deserialize_cuda_engine(self, plan):
            head, _, body = bytes(plan).partition(b"\n")
            meta = json.loads(head)
            if meta["trt"] != prof["version"]:
                error(self.logger, "The engine plan file is not compatible with this version of "
                      f"TensorRT, expecting library version {prof['version']} got {meta['trt']}")
                return None
            if meta["cc"] != ".".join(map(str, gpu.cc)):
                error(self.logger, "The engine plan file is generated on an incompatible device")
                return None
            return Engine(body, self.logger)

    def effective_context():
        # TensorRT's runtime API uses the current context, else the device's primary one
        return gpu.current() or gpu.primary.get(0)

    class Engine(Restricted):
        _missing = frozenset((NAME_API if not prof["names"] else set())
                             | (BINDING_API if not prof["bindings"] else set()))

        def __init__(self, body, logger):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            # Q/DQ as TensorRT computes it (int32 accumulation): not ORT's fused int8 CPU
            # kernels, which saturate on x86 without VNNI (tools.export.verify.ort_session)
            opts.add_session_config_entry("session.disable_quant_qdq", "1")
            object.__setattr__(self, "session", ort.InferenceSession(
                body, opts, providers=["CPUExecutionProvider"]))
            object.__setattr__(self, "logger", logger)
            object.__setattr__(self, "context", effective_context())
            ios = [(i.name, True, i.shape) for i in self.session.get_inputs()] + \
                  [(o.name, False, o.shape) for o in self.session.get_outputs()]
            object.__setattr__(self, "ios", [(n, inp, tuple(d if isinstance(d, int) else -1
                                                            for d in s)) for n, inp, s in ios])

        @property
        def num_io_tensors(self):
            return len(self.ios)

        num_bindings = num_io_tensors

        def _io(self, name):
            for io in self.ios:
                if io[0] == name:
                    return io
            raise KeyError(name)

        def get_tensor_name(self, i):
            return self.ios[i][0]

        def get_tensor_mode(self, name):
            return trt.TensorIOMode.INPUT if self._io(name)[1] else trt.TensorIOMode.OUTPUT

        def get_tensor_shape(self, name):
            return self._io(name)[2]

        def get_tensor_dtype(self, name):
            return trt.DataType.FLOAT

        def get_binding_name(self, i):
            return self.ios[i][0]

        def binding_is_input(self, i):
            return self.ios[i][1]

        def get_binding_shape(self, i):
            return self.ios[i][2]

        def get_binding_dtype(self, i):
            return trt.DataType.FLOAT

        def create_execution_context(self):
            gpu.record("create_execution_context")
            return ExecutionContext(self)

    class ExecutionContext(Restricted):
        _missing = frozenset(({"set_input_shape", "set_tensor_address", "execute_async_v3",
                               "get_tensor_shape"} if not prof["names"] else set())
                             | ({"set_binding_shape", "get_binding_shape", "execute_async_v2"}
                                if not prof["bindings"] else set()))

        def __init__(self, engine):
            object.__setattr__(self, "engine", engine)
            object.__setattr__(self, "shapes", {})
            object.__setattr__(self, "addresses", {})
            object.__setattr__(self, "thread", threading.get_ident())

        # private helpers: the public names below are absent on some versions
        def _set_shape(self, name, shape):
            self.shapes[name] = tuple(shape)
            return True

        def _shape(self, name):
            n, is_input, shape = self.engine._io(name)
            if is_input:
                return self.shapes.get(n, shape)
            batch = next(iter(self.shapes.values()), (1,))[0]
            return tuple(batch if d < 0 else d for d in shape)

        def set_input_shape(self, name, shape):
            return self._set_shape(name, shape)

        def set_binding_shape(self, i, shape):
            return self._set_shape(self.engine.ios[i][0], shape)

        def get_tensor_shape(self, name):
            return self._shape(name)

        def get_binding_shape(self, i):
            return self._shape(self.engine.ios[i][0])

        def set_tensor_address(self, name, ptr):
            self.addresses[name] = int(ptr)
            return True

        def execute_async_v2(self, bindings, stream_handle):
            for (name, _, _), ptr in zip(self.engine.ios, bindings):
                self.addresses[name] = int(ptr)
            return self._execute("execute_async_v2", stream_handle)

        def execute_async_v3(self, stream_handle):
            return self._execute("execute_async_v3", stream_handle)

        def _execute(self, call, stream_handle):
            gpu.record(call)
            log = self.engine.logger
            ctx = effective_context()
            stream = gpu.streams.get(stream_handle)
            if stream_handle == 0 or stream is None:
                trt.warnings.append("enqueue on the default stream")
                error(log, "invalid stream handle")
                return False
            missing = [n for n, _, _ in self.engine.ios if n not in self.addresses]
            if missing:
                error(log, f"address of tensor {missing[0]} not set")
                return False
            if ctx is not self.engine.context or stream.context is not ctx:
                error(log, "invalid resource handle (stream or engine from another CUDA context)")
                return False
            if any(a not in gpu.memory for a in self.addresses.values()):
                error(log, "illegal memory access (device buffer freed or from another context)")
                return False

            def run():
                feeds = {}
                for name, is_input, _ in self.engine.ios:
                    if is_input:
                        shape = self._shape(name)
                        n = int(np.prod(shape)) * 4
                        feeds[name] = gpu.memory[self.addresses[name]][:n].view(np.float32)\
                            .reshape(shape).copy()
                outs = self.engine.session.run(None, feeds)
                for (name, is_input, _), val in zip([io for io in self.engine.ios if not io[1]],
                                                     outs):
                    raw = np.ascontiguousarray(val, np.float32).view(np.uint8).reshape(-1)
                    gpu.memory[self.addresses[name]][:raw.size] = raw
            stream.enqueue(run)
            return True

    for obj in (ILogger, Logger, Builder, OnnxParser, Runtime, nptype):
        setattr(trt, obj.__name__, obj)
    return trt
