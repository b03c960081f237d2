"""A Keras model carrying Python code (a Lambda layer) is refused before anything runs it.

The legacy .h5 is built with tf_keras, whose HDF5 loader executes Lambda bytecode: the Lambda
here creates a marker file when called, so the marker's absence proves the code never ran.
"""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from lanecam.engines.keras_code_scan import code_layers
from lanecam.pipeline.errors import InputError

tf_keras = pytest.importorskip("tf_keras")


def _lambda_h5(tmp_path, nested=False):
    """A tiny .h5 whose Lambda 'evil' would write ``marker`` when the model is built/called."""
    marker = tmp_path / "marker"
    path = str(marker)

    def evil(x):
        open(path, "w").write("ran")  # noqa: SIM115 - the side effect is the point
        return x

    layers = tf_keras.layers
    inner = tf_keras.Sequential([layers.InputLayer((8, 8, 3)), layers.Lambda(evil, name="evil")])
    inp = layers.Input((8, 8, 3))
    out = layers.Conv2D(2, 1)(inner(inp) if nested else layers.Lambda(evil, name="evil")(inp))
    model = tf_keras.Model(inp, out)
    h5 = tmp_path / "model.h5"
    model.save(h5)
    # a spec beside it, so each command gets as far as loading the model
    from lanecam.engines.modelspec import ModelSpec, spec_path_for
    ModelSpec(input_height=8, input_width=8, output_kind="ego_area", seg_output="out",
              exist_output=None, class_names=("lane",)).save(spec_path_for(h5))
    marker.unlink()  # building the model called it once
    return h5, marker


def _lanecam(*argv):
    env = {k: v for k, v in os.environ.items() if k != "LANECAM_TRUST_MODEL_CODE"}
    return subprocess.run([sys.executable, "-m", "lanecam", *argv], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.mark.parametrize("nested", [False, True])
def test_scan_finds_lambda_without_loading(tmp_path, nested):
    h5, marker = _lambda_h5(tmp_path, nested)
    assert code_layers(h5) == ["evil"]
    assert not marker.exists()


def test_keras_zip_config_scanned(tmp_path):
    path = tmp_path / "m.keras"
    cfg = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "TimeDistributed", "config": {"name": "td", "layer": {
            "class_name": "Lambda", "config": {"name": "inner_code"}}}}]}}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(cfg))
    assert code_layers(path) == ["inner_code"]


@pytest.mark.parametrize("command", [["export", "{m}", "-o", "{d}/out.onnx"],
                                     ["convolutionalize", "{m}", "-o", "{d}/out.keras"],
                                     ["run", "synthetic://?frames=1", "--model", "{m}",
                                      "--engine", "keras"]])
def test_cli_refuses_lambda_h5(tmp_path, command):
    h5, marker = _lambda_h5(tmp_path)
    argv = [a.format(m=h5, d=tmp_path) for a in command]
    res = _lanecam(*argv)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert str(h5) in lines[0] and "'evil'" in lines[0] and "--trust-model-code" in lines[0]
    assert not marker.exists()


def test_loader_refuses_then_trusts(tmp_path, monkeypatch):
    from lanecam.engines.keras_loader import load_model

    h5, marker = _lambda_h5(tmp_path)
    monkeypatch.delenv("LANECAM_TRUST_MODEL_CODE", raising=False)
    with pytest.raises(InputError, match="evil"):
        load_model(h5)
    assert not marker.exists()
    monkeypatch.setenv("LANECAM_TRUST_MODEL_CODE", "1")
    loaded = load_model(h5)  # trusted: the Lambda is rebuilt and its code runs when called
    loaded.reference(np.zeros((1, 8, 8, 3), np.float32))
    assert marker.exists()


@pytest.mark.parametrize("command", ["run", "bench", "export", "evaluate", "convolutionalize"])
def test_every_model_loading_command_has_the_flag(command):
    res = _lanecam(command, "--help")
    assert res.returncode == 0 and "--trust-model-code" in res.stdout
