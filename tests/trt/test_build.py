"""The plan builder's version branches, on fake TensorRT 8.0 ... 11.4 attribute sets."""

import json

import pytest

from lanecam.engines.tensorrt_build import (BuildOptions, build_serialized, network_flags,
                                    trtexec_command)
from lanecam.pipeline.errors import InputError

from trt.conftest import ALL_VERSIONS
from trt import models


def _major(v):
    return int(v.split(".")[0])


def _last_build(env):
    flags, attrs, pools, timing = env.trt.builds[-1]
    return flags, attrs, pools, timing


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_network_flags_and_fp32_build(fake_gpu, tmp_path, version):
    env = fake_gpu(version)
    flags = network_flags(env.trt)
    if _major(version) < 10:
        assert flags == 1 << env.trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH
    else:
        assert flags == 0
    plan = build_serialized(env.trt, models.tiny_onnx(tmp_path / "m.onnx").read_bytes(),
                            BuildOptions("fp32"), "m.onnx", say=lambda *a: None)
    assert json.loads(plan.partition(b"\n")[0])["trt"] == env.trt.__version__
    built_flags, attrs, pools, _ = _last_build(env)
    assert built_flags == set() and env.trt.warnings == []
    if version in ("8.0", "8.2"):
        assert attrs["max_workspace_size"] == 1024 << 20
    else:
        assert pools == {env.trt.MemoryPoolType.WORKSPACE: 1024 << 20}


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_fp16(fake_gpu, tmp_path, version):
    env = fake_gpu(version)
    fp32 = models.tiny_onnx(tmp_path / "m.onnx").read_bytes()
    fp16 = models.fp16_onnx(tmp_path / "m16.onnx").read_bytes()
    if _major(version) >= 11:
        with pytest.raises(InputError, match="lanecam export --fp16"):
            build_serialized(env.trt, fp32, BuildOptions("fp16"), "m.onnx")
        build_serialized(env.trt, fp16, BuildOptions("fp16"), "m16.onnx")
        assert _last_build(env)[0] == set()
    else:
        build_serialized(env.trt, fp32, BuildOptions("fp16"), "m.onnx")
        assert _last_build(env)[0] == {"FP16"}


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_int8_needs_qdq_and_flag_only_on_8(fake_gpu, tmp_path, version):
    env = fake_gpu(version)
    fp32 = models.tiny_onnx(tmp_path / "m.onnx").read_bytes()
    with pytest.raises(InputError, match="Q/DQ ONNX"):
        build_serialized(env.trt, fp32, BuildOptions("int8"), "m.onnx")
    qdq = models.int8_onnx(tmp_path / "m8.onnx", models.frames(tmp_path / "f")).read_bytes()
    assert build_serialized(env.trt, qdq, BuildOptions("int8"), "m8.onnx")
    assert _last_build(env)[0] == ({"INT8"} if _major(version) < 10 else set())


@pytest.mark.parametrize("version, ok", [("8.6", True), ("10.13", True), ("11.1", False),
                                         ("11.4", True)])
def test_dla(fake_gpu, tmp_path, version, ok):
    env = fake_gpu(version)
    fp16 = models.fp16_onnx(tmp_path / "m16.onnx").read_bytes()
    opts = BuildOptions("fp16", dla_core=1)
    if not ok:
        with pytest.raises(InputError, match="11.0-11.3"):
            build_serialized(env.trt, fp16, opts, "m16.onnx")
        return
    build_serialized(env.trt, fp16, opts, "m16.onnx")
    flags, attrs, _, _ = _last_build(env)
    assert "GPU_FALLBACK" in flags
    assert attrs["DLA_core"] == 1 and attrs["default_device_type"] == env.trt.DeviceType.DLA
    with pytest.raises(InputError, match="2 DLA cores"):
        build_serialized(env.trt, fp16, BuildOptions("fp16", dla_core=2), "m16.onnx")
    fp32 = models.tiny_onnx(tmp_path / "m.onnx").read_bytes()
    with pytest.raises(InputError, match="FP16 or INT8 only"):
        build_serialized(env.trt, fp32, BuildOptions("fp32", dla_core=0), "m.onnx")


@pytest.mark.parametrize("version", ["8.2", "10.13", "11.1"])
def test_timing_cache_is_read_and_updated(fake_gpu, tmp_path, version):
    env = fake_gpu(version)
    onnx_bytes = models.tiny_onnx(tmp_path / "m.onnx").read_bytes()
    cache = tmp_path / "timing.cache"
    for n in (1, 2):
        build_serialized(env.trt, onnx_bytes, BuildOptions(timing_cache=cache), "m.onnx")
        assert cache.read_bytes().endswith(f":{n}".encode())


def test_parser_errors_are_one_clear_line(fake_gpu, tmp_path):
    env = fake_gpu("10.13")
    bad = models.tiny_onnx(tmp_path / "m.onnx", nearest_tf=True).read_bytes()
    with pytest.raises(InputError, match="m.onnx: TensorRT's ONNX parser rejected.*up_nn"):
        build_serialized(env.trt, bad, BuildOptions(), "m.onnx")


def test_options_validation():
    with pytest.raises(InputError, match="precision"):
        BuildOptions("bf16")
    with pytest.raises(InputError, match="--workspace"):
        BuildOptions(workspace_mib=1)
    with pytest.raises(InputError, match="--dla"):
        BuildOptions(dla_core=-1)


def test_trtexec_command():
    opts = BuildOptions("fp16", workspace_mib=512, dla_core=0, timing_cache="t.cache")
    cmd = trtexec_command("m.onnx", "m.plan", opts, trt_major=10)
    assert cmd == ("trtexec --onnx=m.onnx --saveEngine=m.plan --memPoolSize=workspace:512M "
                   "--fp16 --useDLACore=0 --allowGPUFallback --timingCacheFile=t.cache")
    assert "--fp16" not in trtexec_command("m.onnx", "m.plan", opts, trt_major=11)
