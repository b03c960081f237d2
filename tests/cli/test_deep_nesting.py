"""Deeply nested JSON/TOML inputs are one line and exit 2, never a RecursionError (issue 25 #8).

Python's JSON and TOML parsers recurse once per level: ``[[[[...]]]]`` a hundred thousand
levels deep raised ``RecursionError`` out of ``--calibration``, ``--spec``, ``--config``,
``evaluate --gt`` and a ``.keras`` archive's ``config.json``. All of them are read through
``pipeline/safe_load.py`` now, with a nesting limit.
"""

import json
import zipfile

import pytest

from lanecam.pipeline.cli import main
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.safe_load import MAX_NESTING, check_nesting, json_loads

DEPTH = 100_000
DEEP_JSON = "[" * DEPTH + "]" * DEPTH
DEEP_TOML = "a = " + "[" * DEPTH + "]" * DEPTH + "\n"
SOURCE = "synthetic://?frames=1&width=64&height=48"


def _main(capsys, *argv):
    rc = main([str(a) for a in argv])
    return rc, capsys.readouterr().err


def _one_line_naming(err, path):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert str(path) in lines[0] and "nested more than" in lines[0], err


@pytest.mark.parametrize("flag", ["--calibration", "--spec"])
def test_deep_json_for_run_is_one_line(tmp_path, capsys, flag):
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP_JSON)
    rc, err = _main(capsys, "run", SOURCE, flag, deep, "--quiet")
    assert rc == 2
    _one_line_naming(err, deep)


def test_deep_toml_config_is_one_line(tmp_path, capsys):
    deep = tmp_path / "deep.toml"
    deep.write_text(DEEP_TOML)
    rc, err = _main(capsys, "run", SOURCE, "--config", deep, "--quiet")
    assert rc == 2
    _one_line_naming(err, deep)


def test_deep_toml_tables_are_refused_too(tmp_path, capsys):
    # dotted keys nest without recursion in the parser: the limit applies to the result
    deep = tmp_path / "dotted.toml"
    deep.write_text(".".join(["k"] * (MAX_NESTING + 5)) + " = 1\n")
    rc, err = _main(capsys, "run", SOURCE, "--config", deep, "--quiet")
    assert rc == 2
    _one_line_naming(err, deep)


def test_deep_labels_for_evaluate_are_one_line(tmp_path, capsys):
    gt, pred = tmp_path / "gt.json", tmp_path / "pred.jsonl"
    gt.write_text('{"raw_file": "a.jpg", "lanes": ' + DEEP_JSON + ', "h_samples": []}\n')
    pred.write_text('{"raw_file": "a.jpg", "lanes": [], "h_samples": [], "run_time": 1}\n')
    rc, err = _main(capsys, "evaluate", "--gt", gt, "--pred", pred)
    assert rc == 2
    _one_line_naming(err, gt)


def test_a_keras_archive_with_a_deep_config_is_one_line(tmp_path, capsys):
    from lanecam.engines.modelspec import ModelSpec, spec_path_for

    model = tmp_path / "deep.keras"
    with zipfile.ZipFile(model, "w") as z:
        z.writestr("config.json", '{"class_name": "Functional", "config": ' + DEEP_JSON + "}")
    ModelSpec(input_height=8, input_width=8, output_kind="ego_area", seg_output="out",
              exist_output=None, class_names=("lane",)).save(spec_path_for(model))
    rc, err = _main(capsys, "run", SOURCE, "--model", model, "--engine", "keras", "--quiet")
    assert rc == 2
    _one_line_naming(err, model)


def test_the_limit_is_the_same_for_text_and_parsed_data():
    ok = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert check_nesting(json_loads(ok, "ok"), "ok") is not None
    too_deep = "[" + ok + "]"
    with pytest.raises(InputError, match="nested more than"):
        json_loads(too_deep, "text")
    with pytest.raises(InputError, match="nested more than"):
        check_nesting(json.loads(too_deep), "data")
    # brackets inside strings are not nesting
    assert json_loads(json.dumps(["[" * 1000]), "strings") == ["[" * 1000]
