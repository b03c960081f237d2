"""``lanecam bench`` end to end on tiny models: JSON keys, Markdown, plot, side by side, errors."""

import json
import subprocess
import sys

import pytest

from lanecam.pipeline.cli import main

from tests.stopping import once_handled, stop_child

from .helpers import SMALL_SYNTHETIC

REQUIRED = ["pipelined.fps", "sequential.fps", "model_only.fps",
            "pipelined.latency_ms.p50_ms", "pipelined.latency_ms.p95_ms",
            "pipelined.latency_ms.p99_ms", "pipelined.dropped", "machine"]


def _get(data, dotted):
    for key in dotted.split("."):
        data = data[key]
    return data


def _bench(tmp_path, *extra):
    out = tmp_path / "b.json"
    code = main(["bench", SMALL_SYNTHETIC, "--frames", "12", "--warmup", "2", "--batch", "1",
                 "--preload", "4", "--quiet", "--json", str(out), *extra])
    return code, (json.loads(out.read_text()) if out.exists() else None)


def test_report_has_the_required_keys_and_tables(tmp_path, tiny_model, capsys):
    md = tmp_path / "b.md"
    code, data = _bench(tmp_path, "--model", str(tiny_model), "--engine", "onnxruntime",
                        "--markdown", str(md))
    assert code == 0
    for key in REQUIRED:
        assert _get(data, key) is not None, key
    assert data["pipelined"]["frames"] == data["sequential"]["frames"] == 12
    assert data["pipelined"]["dropped"] == 0
    assert data["config"]["engine"] == "onnxruntime" and data["config"]["threads"] is None
    m = data["machine"]
    assert m["cores"] >= 1 and m["libraries"]["onnxruntime"] and m["libraries"]["numpy"]
    assert data["input"]["preloaded_frames"] == 4
    assert data["bound"]["fps"] > 0 and data["efficiency"] > 0 and data["speedup"] > 0
    assert data["results"][0]["config"] == data["config"]
    text = md.read_text()
    assert "| configuration |" in text and "onnxruntime:tiny" in text
    assert "where the time goes" in text and "| preprocess |" in text
    assert "onnxruntime:tiny: model only" in capsys.readouterr().out
    # a short input is run three times (alternating) and the medians reported
    r = data["results"][0]
    assert r["runs"] == 3 and len(r["repeats"]["pipelined_fps"]) == 3
    assert sorted(r["repeats"]["sequential_fps"])[1] == data["sequential"]["fps"]
    assert "(median of 3: " in text


def test_repeat_one_runs_once(tmp_path, tiny_model):
    code, data = _bench(tmp_path, "--model", str(tiny_model), "--repeat", "1")
    assert code == 0 and data["results"][0]["runs"] == 1 and "repeats" not in data["results"][0]


@pytest.mark.parametrize("repeat, done, elapsed, more", [
    (None, 0, 0.0, True), (None, 1, 5.0, True), (None, 2, 19.0, True), (None, 3, 1.0, False),
    (None, 1, 25.0, False),  # a long input runs once
    (1, 1, 0.0, False), (5, 4, 100.0, True), (5, 5, 0.0, False),
])
def test_how_many_runs(repeat, done, elapsed, more):
    from lanecam.pipeline.bench.suite import _another_pair

    assert _another_pair(repeat, done, elapsed) is more


def test_models_and_threads_side_by_side(tmp_path, tiny_model, tiny_model_b1):
    md = tmp_path / "b.md"
    code, data = _bench(tmp_path, "--model", f"{tiny_model},{tiny_model_b1}",
                        "--engine", "onnxruntime", "--threads", "1,2", "--markdown", str(md))
    assert code == 0
    labels = [r["config"]["label"] for r in data["results"]]
    assert labels == ["onnxruntime:tiny:t1", "onnxruntime:tiny:t2", "onnxruntime:tiny_b1:t1",
                      "onnxruntime:tiny_b1:t2"]
    rows = [line for line in md.read_text().splitlines() if line.startswith("| onnxruntime:")]
    assert len(rows) == 4


def test_an_unavailable_engine_is_one_failed_row(tmp_path, tiny_model):
    pytest.importorskip("onnxruntime")
    try:
        import tensorrt  # noqa: F401
        pytest.skip("TensorRT is installed here")
    except ImportError:
        pass
    code, data = _bench(tmp_path, "--model", str(tiny_model), "--engine", "onnxruntime,tensorrt")
    assert code == 0
    ok, failed = data["results"]
    assert "error" not in ok and "tensorrt" in failed["error"]


def test_plot(tmp_path, tiny_model):
    pytest.importorskip("matplotlib")
    png = tmp_path / "b.png"
    code, _ = _bench(tmp_path, "--model", str(tiny_model), "--plot", str(png))
    assert code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_names_the_extra(tmp_path, tiny_model, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    code, data = _bench(tmp_path, "--model", str(tiny_model), "--plot", str(tmp_path / "b.png"))
    assert code == 2 and data is None  # refused before measuring anything
    err = capsys.readouterr().err
    assert 'lanecam[plot]' in err and len(err.strip().splitlines()) == 1


def test_sinks_and_video_source(tmp_path, tiny_model, small_video):
    outputs = tmp_path / "out"
    outputs.mkdir()
    code = main(["bench", str(small_video), "--model", str(tiny_model), "--quiet", "--batch", "1",
                 "--sinks", "jsonl", "--outputs", str(outputs), "--json", str(tmp_path / "b.json")])
    assert code == 0
    data = json.loads((tmp_path / "b.json").read_text())
    assert data["input"]["frames_per_run"] == 24 and "preloaded_frames" not in data["input"]
    assert data["pipelined"]["frames"] == 24
    files = sorted(p.name for p in outputs.iterdir())
    assert len(files) == 2 and all(f.endswith(".jsonl") for f in files)
    for f in outputs.iterdir():
        assert len(f.read_text().splitlines()) == 24


@pytest.mark.parametrize("args, message", [
    (["--frames", "0"], "--frames"),
    (["--sinks", "printer"], "unknown sink 'printer'"),
    (["--engine", "magic"], "--engine 'magic'"),
    (["--threads", "two"], "--threads"),
    (["--model", "/no/such/model.onnx"], "model file not found"),
    (["--outputs", "/no/such/dir"], "--outputs"),
])
def test_bad_usage_is_one_line_and_exit_2(tmp_path, tiny_model, args, message, capsys):
    argv = ["bench", SMALL_SYNTHETIC, "--quiet", "--frames", "4", "--preload", "2"]
    if "--model" not in args:
        argv += ["--model", str(tiny_model)]
    assert main(argv + args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_missing_bundled_model_is_explained(tmp_path, capsys, monkeypatch):
    from lanecam import engines

    monkeypatch.setattr(engines.loader, "default_model_path",
                        lambda engine="auto": tmp_path / "none.onnx")
    assert main(["bench", SMALL_SYNTHETIC, "--quiet", "--frames", "4", "--preload", "2"]) == 2
    assert "--model PATH" in capsys.readouterr().err


def test_help_works_without_heavy_imports():
    code = ("import sys; from lanecam.pipeline.cli import main\n"
            "try:\n    main(['bench', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(','.join(m for m in ('onnxruntime', 'matplotlib', 'cv2', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Measure FPS and latency" in out.stdout
    assert "onnxruntime" not in out.stdout.splitlines()[-1]
    assert "matplotlib" not in out.stdout.splitlines()[-1]


@pytest.mark.parametrize("delay", [0.5, 6.0])
def test_sigterm_is_exit_143_in_one_line_and_leaves_no_partial_report(tmp_path, tiny_model,
                                                                        delay):
    """SIGTERM (``timeout``, ``docker stop``) while bench starts or runs: exit 143, one line,
    and the --json / --markdown reports are complete or absent, never half written."""
    import os

    out = tmp_path / "reports"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanecam", "bench", "synthetic://?frames=100000", "--model",
         str(tiny_model), "--seconds", "120", "--json", str(out / "b.json"), "--markdown",
         str(out / "b.md"), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    err = stop_child(proc, once_handled(proc, delay))
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == ["lanecam bench: interrupted (SIGTERM)"], err
    assert sorted(p.name for p in out.iterdir()) == []
