"""A model file that is both HDF5 and a zip archive never gets its Lambda code run.

The attack (issue 25): an HDF5 Keras 2 model with a Lambda layer and a harmless zip appended
(``cat evil.h5 benign.zip > poly.h5``). The old scan saw a zip and scanned its harmless
``config.json``; the loader read the file as HDF5 and tf_keras ran the Lambda's bytecode. Now
the format is decided once from the first bytes, the scan reads exactly that, the loader loads
that, and a file that is both is refused. Three files, in every command that loads a model and
in the Python API:

- ``poly.h5``: HDF5 at offset 0, a zip appended (its directory at the end of the file);
- ``zipfirst.h5``: a zip at offset 0, the HDF5 model after it at offset 512 or a larger power
  of two (where the HDF5 library also looks, so ``h5py`` opens it as HDF5);
- ``magic.keras``: the plain HDF5 Lambda model under a ``.keras`` name (scanned as the HDF5 it
  is, not skipped as "a .keras that is not a zip").

The Lambda writes a marker file when called (its path is a constant in its bytecode, so it
works wherever the code is run): the marker's absence proves that no code ran.
"""

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

from lanecam.pipeline.errors import InputError

pytestmark = pytest.mark.tf
tf_keras = pytest.importorskip("tf_keras")


def _evil_function(marker):
    namespace = {}
    exec(f"def evil(x):\n    open({str(marker)!r}, 'w').write('ran')\n    return x\n",
         namespace)
    return namespace["evil"]


def _benign_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", json.dumps({"class_name": "Functional",
                                              "config": {"name": "benign", "layers": []}}))
    return buf.getvalue()


def _spec_beside(model):
    from lanecam.engines.modelspec import ModelSpec, spec_path_for

    ModelSpec(input_height=8, input_width=8, output_kind="ego_area", seg_output="out",
              exist_output=None, class_names=("lane",)).save(spec_path_for(model))


@pytest.fixture(scope="module")
def polyglots(tmp_path_factory):
    """{name: path} of the three polyglot models, and the marker path their Lambda writes."""
    import h5py

    d = tmp_path_factory.mktemp("polyglot")
    marker = d / "marker"
    layers = tf_keras.layers
    inp = layers.Input((8, 8, 3))
    out = layers.Conv2D(1, 1, activation="sigmoid")(layers.Lambda(_evil_function(marker),
                                                                   name="evil")(inp))
    tf_keras.Model(inp, out).save(d / "evil.h5")
    h5 = (d / "evil.h5").read_bytes()
    benign = _benign_zip()
    pad = 512
    while pad < len(benign):
        pad *= 2
    files = {"poly.h5": h5 + benign,
             "zipfirst.h5": benign + b"\0" * (pad - len(benign)) + h5,
             "magic.keras": h5}
    paths = {}
    for name, data in files.items():
        path = d / name
        path.write_bytes(data)
        _spec_beside(path)
        paths[name] = path
    # they are what they claim: the HDF5 library opens each, and so does zip where appended
    assert all(h5py.is_hdf5(p) for p in paths.values())
    assert zipfile.is_zipfile(paths["poly.h5"]) and zipfile.is_zipfile(paths["zipfirst.h5"])
    marker.unlink()  # building the model called the Lambda once
    return paths, marker


def _write_video(path, frames=3):
    import cv2
    import numpy as np

    path.parent.mkdir()
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (64, 48))
    for i in range(frames):
        out.write(np.full((48, 64, 3), 40 * i, np.uint8))
    out.release()


def _lanecam(*argv):
    env = {k: v for k, v in os.environ.items() if k != "LANECAM_TRUST_MODEL_CODE"}
    return subprocess.run([sys.executable, "-m", "lanecam", *map(str, argv)],
                          capture_output=True, text=True, env=env, timeout=600)


def _refusal(name):
    """What the one error line says for each file."""
    return "'evil'" if name == "magic.keras" else "both"


COMMANDS = {
    "run": ["run", "synthetic://?frames=1&width=64&height=48", "--model", "{m}", "--quiet"],
    "export": ["export", "{m}", "-o", "{d}/out.onnx"],
    "bench": ["bench", "--model", "{m}", "--engine", "keras", "--frames", "1", "--warmup", "0",
              "--quiet"],
    "evaluate": ["evaluate", "--model", "{m}", "--no-tusimple", "--synthetic", "1"],
    "convolutionalize": ["convolutionalize", "{m}", "-o", "{d}/out.keras"],
    "batch": ["batch", "{d}/videos", "--model", "{m}", "--out", "{d}/results", "--quiet"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["poly.h5", "zipfirst.h5", "magic.keras"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_refuses_the_polyglot_and_runs_no_code(polyglots, tmp_path, command,
                                                             name):
    paths, marker = polyglots
    model = paths[name]
    if command == "batch":
        # without the [batch] extra, batch stops at "ray is not installed" and loads nothing
        pytest.importorskip("ray")
        _write_video(tmp_path / "videos" / "clip.mp4")
    argv = [a.format(m=model, d=tmp_path) for a in COMMANDS[command]]
    res = _lanecam(*argv)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    assert str(model) in lines[-1] and _refusal(name) in lines[-1], res.stderr
    assert not marker.exists()


@pytest.mark.parametrize("name", ["poly.h5", "zipfirst.h5", "magic.keras"])
def test_the_python_api_refuses_the_polyglot_and_runs_no_code(polyglots, name, monkeypatch):
    from lanecam import LaneDetector

    paths, marker = polyglots
    monkeypatch.delenv("LANECAM_TRUST_MODEL_CODE", raising=False)
    with pytest.raises(InputError, match=_refusal(name)) as err:
        LaneDetector(model=paths[name], engine="keras")
    assert str(paths[name]) in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["poly.h5", "zipfirst.h5"])
def test_a_file_that_is_both_is_refused_even_when_trusted(polyglots, name):
    from lanecam.engines.keras_loader import load_model

    paths, marker = polyglots
    with pytest.raises(InputError, match="both"):
        load_model(paths[name], trust_code=True)
    assert not marker.exists()


def test_the_format_is_decided_by_the_first_bytes_not_the_name(polyglots, tmp_path):
    from lanecam.engines.keras_file import keras_format

    paths, _ = polyglots
    assert keras_format(paths["magic.keras"]) == "h5"
    zipped = tmp_path / "archive.h5"
    zipped.write_bytes(_benign_zip())
    assert keras_format(zipped) == "zip"
    other = tmp_path / "noise.keras"
    other.write_bytes(b"GIF89a" + bytes(100))
    with pytest.raises(InputError, match="not a Keras model file"):
        keras_format(other)


def test_a_keras_archive_is_loaded_as_a_zip_whatever_its_name(tmp_path):
    """The loader loads what the scan read: the bundled .keras copied to a .h5 name loads
    through Keras 3's zip loader (the name would send Keras to its HDF5 loader)."""
    import shutil

    from lanecam.engines.keras_loader import load_model
    from lanecam.engines.loader import default_model_path

    renamed = tmp_path / "lanefcn.h5"
    shutil.copyfile(default_model_path("keras"), renamed)
    loaded = load_model(renamed)
    assert loaded.kind == "keras3" and loaded.input_shape[1:] == (128, 320, 3)
