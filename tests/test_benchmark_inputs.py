"""The benchmark scripts meet bad input as the commands do: one line, exit 2, nothing
overwritten (round 3 of the attack: tracebacks, an input model replaced by --json)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "engines" / "models" / "lanefcn" / "lanefcn.onnx"


def _script(name, *argv):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *map(str, argv)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    return proc.returncode, proc.stderr.strip()


def test_compare_models_never_writes_its_json_over_a_model(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(BUNDLED.read_bytes())
    rc, err = _script("compare_models.py", model, "--json", model, "--no-tusimple")
    assert rc == 2 and "--json" in err and "input" in err, err
    assert "Traceback" not in err and model.read_bytes() == BUNDLED.read_bytes()
    # checked before minutes of measuring, not when the table is written
    rc, err = _script("compare_models.py", model, "--json", tmp_path / "no" / "t.json")
    assert rc == 2 and "does not exist" in err and "Traceback" not in err, err


@pytest.mark.parametrize("name, argv, match", [
    ("compare_models.py", ["--no-road", "-1"], "argument --no-road: expected 0 or more"),
    ("paired_bootstrap.py", [BUNDLED, BUNDLED, "--resamples", "0"], "--resamples: expected"),
    ("paired_bootstrap.py", [BUNDLED, BUNDLED, "--seed", "-1"], "--seed: expected 0 to"),
    ("paired_bootstrap.py", [BUNDLED, BUNDLED, "--mix", "v9"], "--mix: invalid choice"),
    ("teacher_coverage.py", ["--tolerance", "-1"], "--tolerance: expected 0 to 200"),
    ("teacher_coverage.py", ["--limit", "-32"], "--limit: expected 0 or more"),
])
def test_bad_numbers_are_refused_by_the_parser(name, argv, match):
    rc, err = _script(name, *argv)
    assert rc == 2 and match in err and "Traceback" not in err, err


@pytest.mark.parametrize("name", ["erased_lines.py", "road_markings.py"])
def test_save_naming_a_file_and_a_missing_model_are_one_line(tmp_path, name):
    from lanecam.pipeline.data_paths import data_path

    if data_path("tusimple-train", "labels.json") is None:
        pytest.skip("needs ../shared/data/tusimple-train")
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    rc, err = _script(name, BUNDLED, "--save", taken)
    assert rc == 2 and "--save" in err and "is a file" in err and "Traceback" not in err, err
    assert taken.read_text() == "mine"
    rc, err = _script(name, tmp_path / "missing.onnx")
    assert rc == 2 and "missing.onnx: model file not found" in err, err
    assert "Traceback" not in err


def test_paired_bootstrap_refuses_a_broken_candidate_before_scoring_anything(tmp_path):
    broken = tmp_path / "empty.onnx"
    broken.write_bytes(b"")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "paired_bootstrap.py"),
                           str(BUNDLED), str(broken)], capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
    assert proc.returncode == 2 and "empty.onnx" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    # before: the baseline was scored in full (233 frames) and its line printed first
    assert "baseline" not in proc.stdout, proc.stdout
