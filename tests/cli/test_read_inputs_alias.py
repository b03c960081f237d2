"""Every file a command reads is an input of the alias check (issue 25 #2, #3, #4).

Before: a glob SOURCE was not expanded (``run "frames/*.jpg" --lanes frames/a.jpg`` wrote
JSON lines over the JPEG), and neither the spec found beside the model nor the ``--config``
file counted as inputs (``--lanes m.spec.json`` made the model unusable, ``--stats run.toml``
overwrote the config).
"""

import hashlib

import cv2
import numpy as np
import pytest

from lanecam.pipeline.cli import main

SOURCE = "synthetic://?frames=2&width=64&height=48"


def _digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _run(capsys, *argv):
    rc = main(["run", *map(str, argv), "--quiet"])
    return rc, capsys.readouterr().err


def _refused(rc, err, flag, what):
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"lanecam run: error: {flag} ") and what in lines[0], err


@pytest.fixture()
def frames(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / f"f{i}.jpg"), np.full((48, 64, 3), 60 * i, np.uint8))
    return folder


@pytest.mark.parametrize("flag", ["--lanes", "-o", "--stats"])
def test_an_output_over_a_file_of_a_glob_source_is_refused(capsys, frames, tiny_model, flag):
    target = frames / "f0.jpg"
    before = _digest(target)
    rc, err = _run(capsys, frames / "*.jpg", "--model", tiny_model, flag, target)
    _refused(rc, err, flag, "SOURCE")
    assert _digest(target) == before


def test_an_output_the_glob_would_match_is_refused(capsys, frames, tiny_model):
    rc, err = _run(capsys, frames / "*.jpg", "--model", tiny_model, "--lanes",
                   frames / "new.jpg")
    _refused(rc, err, "--lanes", "matches the input SOURCE")
    assert not (frames / "new.jpg").exists()


def test_an_output_beside_a_glob_source_is_fine(tmp_path, capsys, frames, tiny_model):
    lanes = frames / "lanes.jsonl"   # not a *.jpg: the glob never reads it
    rc, err = _run(capsys, frames / "*.jpg", "--model", tiny_model, "--lanes", lanes)
    assert rc == 0, err
    assert len(lanes.read_text().splitlines()) == 2


@pytest.mark.parametrize("flag", ["--lanes", "--stats"])
def test_the_spec_beside_the_model_is_an_input(tmp_path, capsys, tinymodels, flag):
    from lanecam.engines.modelspec import spec_path_for

    model = tinymodels.make_model(tmp_path / "m.onnx", tinymodels.tiny_spec(), embed_spec=False)
    tinymodels.tiny_spec().save(spec_path_for(model))
    sidecar = spec_path_for(model)
    before = _digest(sidecar)
    rc, err = _run(capsys, SOURCE, "--model", model, flag, sidecar)
    _refused(rc, err, flag, "--model spec")
    assert _digest(sidecar) == before
    rc, err = _run(capsys, SOURCE, "--model", model)
    assert rc == 0, err   # the model still runs


@pytest.mark.parametrize("flag", ["--stats", "--lanes", "-o"])
def test_the_config_file_is_an_input(tmp_path, capsys, tiny_model, flag):
    config = tmp_path / "run.toml"
    config.write_text(f'model = "{tiny_model}"\n')
    before = _digest(config)
    rc, err = _run(capsys, SOURCE, "--config", config, flag, config)
    _refused(rc, err, flag, "--config")
    assert _digest(config) == before


def test_bench_and_evaluate_count_the_spec_beside_the_model(tmp_path, capsys, tinymodels):
    from lanecam.engines.modelspec import spec_path_for

    model = tinymodels.make_model(tmp_path / "m.onnx", tinymodels.tiny_spec(), embed_spec=False)
    tinymodels.tiny_spec().save(spec_path_for(model))
    sidecar = spec_path_for(model)
    before = _digest(sidecar)
    for argv in (["bench", "--model", model, "--json", sidecar, "--frames", "1"],
                 ["evaluate", "--model", model, "--no-tusimple", "--synthetic", "1",
                  "--report", sidecar]):
        rc = main([str(a) for a in argv])
        err = capsys.readouterr().err
        assert rc == 2 and "--model spec" in err and "Traceback" not in err, err
    assert _digest(sidecar) == before
