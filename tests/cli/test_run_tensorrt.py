"""``lanecam run --engine tensorrt`` on an ONNX model, through the engine cache, on the fake
TensorRT + pycuda of tests/trt: build and store once, reuse, say which field differs, refuse a
cache folder that cannot be written before anything runs."""

import json
import os

import pytest

from lanecam.pipeline.cli import main

pytest.importorskip("onnxruntime")
from trt.conftest import install  # noqa: E402


def _run(capsys, *argv):
    rc = main(["run", *map(str, argv)])
    return rc, capsys.readouterr().err


def _lanes(path):
    return [json.loads(line)["frame_id"] for line in path.read_text().splitlines()]


def test_onnx_plan_is_built_once_then_reused(tmp_path, monkeypatch, capsys, small_video,
                                             tiny_model):
    env = install(monkeypatch, "10.13")
    cache, lanes, stats = tmp_path / "engines", tmp_path / "l.jsonl", tmp_path / "s.json"
    argv = [small_video, "--model", tiny_model, "--engine", "tensorrt", "--engine-cache", cache,
            "--lanes", lanes, "--quiet"]
    rc, err = _run(capsys, *argv, "--stats", stats)
    assert rc == 0, err
    assert len(env.trt.builds) == 1 and "engine cache: stored" in err
    (plan,) = cache.glob("*.plan")
    side = json.loads((cache / (plan.name + ".json")).read_text())
    assert side["tensorrt_version"] == env.trt.__version__ and side["gpu_name"] == "Fake Orin"
    assert _lanes(lanes) == list(range(24))
    assert json.loads(stats.read_text())["engine"] == "tensorrt/fake orin (fp32)"
    assert {c[0] for c in env.gpu.calls} >= {"execute_async_v3", "Context.pop"}
    assert env.gpu.live_allocations() == 0

    rc, err = _run(capsys, *argv)
    assert rc == 0, err
    assert len(env.trt.builds) == 1, "the second start reuses the cached plan"
    assert f"engine cache: using {plan}" in err
    assert _lanes(lanes) == list(range(24))


@pytest.mark.parametrize("upgrade, said", [
    (dict(version="11.1"), "tensorrt_version is '10.13.0.35' in the plan but '11.1"),
    (dict(version="10.13", gpu_name="Fake RTX", cc=(8, 9)),
     "compute_capability is '8.7' in the plan but '8.9' here; gpu_name is 'Fake Orin'"),
])
def test_a_plan_of_another_tensorrt_or_gpu_is_rebuilt_naming_the_field(
        tmp_path, monkeypatch, capsys, small_video, tiny_model, upgrade, said):
    cache = tmp_path / "engines"
    argv = [small_video, "--model", tiny_model, "--engine", "tensorrt", "--engine-cache", cache,
            "--quiet"]
    install(monkeypatch, "10.13")
    assert _run(capsys, *argv)[0] == 0
    version = upgrade.pop("version")
    env = install(monkeypatch, version, **upgrade)
    rc, err = _run(capsys, *argv)
    assert rc == 0, err
    assert said in err and "rebuilding" in err
    assert len(env.trt.builds) == 1 and len(list(cache.glob("*.plan"))) == 1
    (plan,) = cache.glob("*.plan")
    assert json.loads((cache / (plan.name + ".json")).read_text())["tensorrt_version"] == \
        env.trt.__version__


def test_unwritable_cache_is_an_error_before_anything_runs(tmp_path, monkeypatch, capsys,
                                                           small_video, tiny_model):
    env = install(monkeypatch, "10.13")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    out = tmp_path / "out.mp4"
    rc, err = _run(capsys, small_video, "--model", tiny_model, "--engine", "tensorrt",
                   "--engine-cache", blocker / "engines", "-o", out)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "not writable" in lines[0] and str(blocker / "engines") in lines[0]
    assert "--engine-cache" in lines[0]
    assert not out.exists() and env.gpu.calls == [] and env.trt.builds == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_cache_folder_is_refused(tmp_path, monkeypatch, capsys, small_video,
                                           tiny_model):
    install(monkeypatch, "10.13")
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        rc, err = _run(capsys, small_video, "--model", tiny_model, "--engine", "tensorrt",
                       "--engine-cache", cache)
    finally:
        cache.chmod(0o700)
    assert rc == 2 and "not writable" in err


def test_cache_from_config_file_and_environment(tmp_path, monkeypatch, capsys, small_video,
                                                tiny_model):
    install(monkeypatch, "8.6")
    from_config = tmp_path / "from-config"
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'engine = "tensorrt"\nengine-cache = "{from_config}"\nquiet = true\n')
    rc, err = _run(capsys, small_video, "--model", tiny_model, "--config", cfg)
    assert rc == 0, err
    assert len(list(from_config.glob("*.plan"))) == 1

    from_env = tmp_path / "from-env"
    monkeypatch.setenv("LANECAM_ENGINE_CACHE", str(from_env))
    rc, err = _run(capsys, small_video, "--model", tiny_model, "--engine", "tensorrt", "--quiet")
    assert rc == 0, err
    assert len(list(from_env.glob("*.plan"))) == 1


def test_default_cache_is_per_user(monkeypatch, tmp_path):
    from lanecam.engines.engine_cache import default_cache_dir

    monkeypatch.delenv("LANECAM_ENGINE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "lanecam" / "engines"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "lanecam" / "engines"


def test_engine_cache_is_ignored_by_onnxruntime(tmp_path, capsys, small_video, tiny_model):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, err = _run(capsys, small_video, "--model", tiny_model, "--engine", "onnxruntime",
                   "--engine-cache", blocker / "engines", "--quiet")
    assert rc == 0, err
