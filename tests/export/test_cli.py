"""``lanecam export`` end to end: the real MLND Keras 2 model, variants, --trt on a fake GPU."""

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from lanecam.engines.modelspec import ModelSpec, spec_path_for  # noqa: E402
from lanecam.pipeline.cli import main  # noqa: E402

MLND_FLAGS = ["--input-size", "80x160", "--color", "rgb", "--scale", "1",
              "--output-kind", "ego_area"]


@pytest.mark.tf
@pytest.mark.slow
def test_mlnd_keras2_export_matches_keras(tmp_path, shared_data, capsys):
    pytest.importorskip("tf_keras")
    out = tmp_path / "mlnd.onnx"
    model = shared_data / "models" / "mlnd" / "full_CNN_model.h5"
    assert main(["export", str(model), *MLND_FLAGS, "-o", str(out),
                 "--check-frames", str(shared_data / "images")]) == 0
    text = capsys.readouterr().out
    assert "tf_half_pixel_for_nn -> asymmetric" in text
    diff = float(text.split("ego_prob=")[1].split()[0])
    assert diff < 1e-4
    spec = ModelSpec.load(spec_path_for(out))
    assert spec.output_kind == "ego_area" and spec.class_names == ("ego",)
    assert (spec.input_height, spec.input_width, spec.scale, spec.crop_top) == (80, 160, 1.0, 0.0)
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (prob,) = sess.run(None, {"image": np.zeros((1, 80, 160, 3), np.float32)})
    assert prob.shape == (1, 80, 160, 1)


def _tiny_onnx(tmp_path):
    from trt import models

    return models.tiny_onnx(tmp_path / "tiny.onnx"), models.frames(tmp_path / "frames")


def test_variants_from_onnx_and_trt_plan_on_fake_gpu(tmp_path, monkeypatch, capsys):
    from trt.conftest import install

    onnx_path, frames = _tiny_onnx(tmp_path)
    env = install(monkeypatch, "11.1")
    assert main(["export", str(onnx_path), "--fp16", "--int8", "--calib", str(frames),
                 "--check-frames", str(frames), "--trt"]) == 0
    text = capsys.readouterr().out
    for tag in ("fp16", "int8"):
        assert (tmp_path / f"tiny_{tag}.onnx").is_file()
        assert (tmp_path / f"tiny_{tag}.plan").is_file()
        side = json.loads((tmp_path / f"tiny_{tag}.plan.json").read_text())
        assert side["precision"] == tag and side["tensorrt_version"] == env.trt.__version__
        assert side["modelspec"]["name"] == "tiny" and len(side["onnx_sha256"]) == 64
    assert "argmax agree" in text and "fp16" in text and "int8" in text
    assert "trtexec --onnx=" in text and "--fp16" not in text.split("trtexec")[1]


def test_variants_of_an_onnx_go_where_o_says(tmp_path, capsys):
    onnx_path, frames = _tiny_onnx(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert main(["export", str(onnx_path), "--fp16", "--check-frames", str(frames),
                 "-o", str(out_dir / "copy.onnx")]) == 0
    assert (out_dir / "copy_fp16.onnx").is_file()
    assert ModelSpec.load(spec_path_for(out_dir / "copy.onnx")).name == "tiny"
    assert not (tmp_path / "tiny_fp16.onnx").exists()  # nothing written beside the input


def test_trt_missing_prints_command_then_names_extra(tmp_path, monkeypatch, capsys):
    import sys

    onnx_path, _ = _tiny_onnx(tmp_path)
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    assert main(["export", str(onnx_path), "--trt"]) == 2
    captured = capsys.readouterr()
    assert "trtexec --onnx=" in captured.out and 'lanecam[trt]' in captured.err


@pytest.mark.parametrize("argv, match", [
    (["--int8"], "--int8 needs --calib"),
    (["--dla", "0"], "--dla only applies with --trt"),
])
def test_usage_errors(tmp_path, capsys, argv, match):
    onnx_path, _ = _tiny_onnx(tmp_path)
    assert main(["export", str(onnx_path), *argv]) == 2
    assert match in capsys.readouterr().err


def test_foreign_model_needs_a_description(tmp_path, capsys):
    path = tmp_path / "foreign.h5"
    path.write_bytes(b"not really")
    assert main(["export", str(path)]) == 2
    assert "--input-size" in capsys.readouterr().err
