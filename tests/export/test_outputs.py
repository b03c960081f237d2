"""``lanecam export`` outputs: never an input (also through a link or another spelling), checked
before anything loads, written under a temporary name and renamed when complete, so a failed
export leaves no half file and a previous file of that name untouched."""

import errno
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from lanecam.engines.modelspec import ModelSpec, spec_path_for  # noqa: E402
from lanecam.pipeline.cli import main  # noqa: E402


@pytest.fixture
def tiny(tmp_path):
    from trt import models

    return models.tiny_onnx(tmp_path / "tiny.onnx"), models.frames(tmp_path / "frames")


def _export(capsys, *argv):
    rc = main(["export", *map(str, argv)])
    return rc, capsys.readouterr().err


def _no_partials(folder: Path):
    assert not [p.name for p in folder.iterdir() if ".partial-" in p.name]


def test_an_output_reaching_the_model_through_a_symlink_is_refused(tmp_path, capsys, tiny):
    model, frames = tiny
    before = model.read_bytes()
    os.symlink(model, tmp_path / "copy_fp16.onnx")  # what --fp16 of -o copy.onnx would write
    rc, err = _export(capsys, model, "-o", tmp_path / "copy.onnx", "--fp16", "--check-frames",
                      frames)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1
    assert "--fp16" in err and "is the input MODEL" in err
    assert model.read_bytes() == before
    assert not (tmp_path / "copy.onnx").exists()  # refused before anything was written


def test_a_keras_model_as_its_own_output_through_a_hard_link_is_refused(tmp_path, capsys):
    model = tmp_path / "net.h5"
    model.write_bytes(b"a keras model, never loaded: the check comes first")
    os.link(model, tmp_path / "net_link.onnx")
    rc, err = _export(capsys, model, "-o", tmp_path / "net_link.onnx", "--input-size", "64x32")
    assert rc == 2 and "is the input MODEL" in err
    assert model.read_bytes().startswith(b"a keras model")


def test_the_written_spec_may_not_be_the_given_spec(tmp_path, capsys, monkeypatch):
    """The default output of net.h5 is ./net.onnx, whose spec file ./net.spec.json would
    overwrite the --spec given in a relative spelling."""
    from trt.models import SPEC

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    Path("net.h5").write_bytes(b"never loaded")
    SPEC.save("net.spec.json")
    before = Path("net.spec.json").read_bytes()
    rc, err = _export(capsys, "net.h5", "--spec", "sub/../net.spec.json")
    assert rc == 2 and "-o (its spec)" in err and "--spec" in err
    assert Path("net.spec.json").read_bytes() == before


def test_a_failed_variant_write_keeps_the_previous_file(tmp_path, capsys, tiny, monkeypatch):
    import onnx

    model, frames = tiny
    previous = tmp_path / "tiny_fp16.onnx"
    previous.write_bytes(b"the previous fp16 model")
    real_save = onnx.save

    def save_half_then_fail(proto, path, *args, **kwargs):
        if "fp16" not in str(path):
            return real_save(proto, path, *args, **kwargs)
        Path(path).write_bytes(b"half a model")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(onnx, "save", save_half_then_fail)
    rc, err = _export(capsys, model, "--fp16", "--check-frames", frames)
    assert rc == 1
    assert len(err.strip().splitlines()) == 1
    assert "--fp16" in err and "No space left on device" in err
    assert previous.read_bytes() == b"the previous fp16 model"
    _no_partials(tmp_path)


def test_a_failed_copy_keeps_the_previous_file(tmp_path, capsys, tiny, monkeypatch):
    import shutil

    model, frames = tiny
    out = tmp_path / "out.onnx"
    out.write_bytes(b"previous")

    def copy_half(src, dst, *args, **kwargs):
        Path(dst).write_bytes(Path(src).read_bytes()[:100])
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(shutil, "copyfile", copy_half)
    rc, err = _export(capsys, model, "-o", out)
    assert rc == 1 and "-o" in err and str(out) in err
    assert out.read_bytes() == b"previous"
    _no_partials(tmp_path)


def test_an_export_failing_its_check_leaves_the_previous_model(tmp_path, capsys, tiny,
                                                              monkeypatch):
    """The Keras -> ONNX step (TensorFlow stubbed out): the ONNX is checked under its
    temporary name; above tolerance it is deleted and the previous file stays."""
    import onnx

    from lanecam.tools.export import keras_io
    from lanecam.tools.export.onnx_export import ExportCheckError, export_keras

    model, frames = tiny
    spec = ModelSpec.load(spec_path_for(model))
    wrong = SimpleNamespace(
        source="stub.keras", kind="keras3", input_shape=(None, spec.input_height,
                                                         spec.input_width, 3),
        reference=lambda x: [np.zeros((1, spec.input_height, spec.input_width, 5), np.float32),
                             np.zeros((1, 4), np.float32)])
    monkeypatch.setattr(keras_io, "load_model", lambda path: wrong)
    monkeypatch.setattr(keras_io, "convert", lambda *a: onnx.load(str(model)))
    out = tmp_path / "exported.onnx"
    out.write_bytes(b"previous export")
    spec_path_for(out).write_text("previous spec")
    with pytest.raises(ExportCheckError, match="nothing was written"):
        export_keras("stub.keras", out, spec, check_source=str(frames), verbose=False)
    assert out.read_bytes() == b"previous export"
    assert spec_path_for(out).read_text() == "previous spec"
    _no_partials(tmp_path)
    # and when the check passes, both files are replaced whole
    right = SimpleNamespace(**{**vars(wrong), "reference": _reference_of(model)})
    monkeypatch.setattr(keras_io, "load_model", lambda path: right)
    export_keras("stub.keras", out, spec, check_source=str(frames), verbose=False)
    assert onnx.load(str(out)).graph.output[0].name == spec.seg_output
    assert ModelSpec.load(spec_path_for(out)).name == spec.name
    _no_partials(tmp_path)


def _reference_of(path):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {session.get_inputs()[0].name: x})
