"""export of a damaged .onnx or one with external data outside its folder: one line, exit 2;
and the numerical check says which frames it used."""

import numpy as np
import pytest

from lanecam.pipeline.cli import main

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _one_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_random_bytes_onnx(tmp_path, capsys):
    model = tmp_path / "junk.onnx"
    model.write_bytes(np.random.default_rng(0).bytes(4096))
    assert main(["export", str(model), "--input-size", "8x8"]) == 2
    assert str(model) in _one_line(capsys)


def test_external_data_outside_folder_refused(tmp_path, capsys):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * 64)
    folder = tmp_path / "m"
    folder.mkdir()
    weight = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    weight.data_location = TensorProto.EXTERNAL
    weight.ClearField("raw_data")
    for key, value in (("location", "../secret.bin"), ("offset", "0"), ("length", "16")):
        weight.external_data.add(key=key, value=value)
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
                              [weight])
    model = folder / "ext.onnx"
    model.write_bytes(helper.make_model(graph).SerializeToString())
    assert main(["export", str(model), "--fp16", "--input-size", "8x8"]) == 2
    line = _one_line(capsys)
    assert str(model) in line and "outside" in line


def test_noise_check_is_said(monkeypatch, tmp_path):
    from lanecam.engines.modelspec import ModelSpec
    from lanecam.tools.export.verify import NOISE_NOTE, check_frames_noted

    monkeypatch.delenv("LANECAM_CHECK_FRAMES", raising=False)
    monkeypatch.setenv("LANECAM_DATA", str(tmp_path / "none"))
    tensors, note = check_frames_noted(None, ModelSpec(input_height=8, input_width=8), 2)
    assert note == NOISE_NOTE and len(tensors) == 2
