"""``lanecam train`` outputs never overwrite an input: --export's files and the --out folder are
checked against the inputs (also through a link or another spelling) before any training."""

import os

import pytest

from lanecam.pipeline.cli import main


def _train(capsys, *argv):
    rc = main(["train", *map(str, argv)])
    return rc, capsys.readouterr().err


def test_export_over_the_warm_start_model_is_refused(tmp_path, capsys):
    init = tmp_path / "v1.keras"
    init.write_bytes(b"the model training starts from")
    export = tmp_path / "export"
    export.mkdir()
    os.link(init, export / "lanefcn.keras")  # the same file under the name --export writes
    rc, err = _train(capsys, "--out", tmp_path / "run", "--init-from", init, "--export", export)
    assert rc == 2 and "--export (lanefcn.keras)" in err and "--init-from" in err, err
    assert init.read_bytes() == b"the model training starts from"
    assert not (tmp_path / "run").exists()  # refused before the run folder was made


@pytest.mark.parametrize("out", ["{root}", "{tmp}/models"])
def test_a_run_folder_holding_an_input_file_is_refused(tmp_path, capsys, out):
    root = tmp_path / "tusimple"
    (root / "clips").mkdir(parents=True)
    labels = root / "labels.json"
    labels.write_text("")
    (tmp_path / "models").mkdir()
    init = tmp_path / "models" / "v1.keras"  # --out models/ would hold the warm-start model
    init.write_bytes(b"model")
    rc, err = _train(capsys, "--out", out.format(root=root, tmp=tmp_path),
                     "--tusimple-labels", labels, "--tusimple-root", root, "--init-from", init)
    assert rc == 2 and "--out" in err and "input" in err, err
    assert labels.read_text() == "" and init.read_bytes() == b"model"


def test_out_naming_a_file_is_one_line_and_touches_nothing(tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    for out in (taken, taken / "run"):
        rc, err = _train(capsys, "--out", out, "--epochs", "1")
        assert rc == 2 and f"--out {out}" in err and "Traceback" not in err, err
    assert taken.read_text() == "mine"


@pytest.mark.parametrize("flag, value, match", [
    ("--val-count", "0", "--val-count: expected a positive integer"),
    ("--decoder-width", "0", "--decoder-width: expected a positive integer"),
    ("--threshold-frames", "-1", "--threshold-frames: expected 0 or more"),
    ("--synthetic-eval", "-1", "--synthetic-eval: expected 0 or more"),
])
def test_counts_are_checked_before_any_training(tmp_path, capsys, flag, value, match):
    # before: --val-count 0 trained a whole epoch and then failed inside validation, and
    # --threshold-frames -1 failed after the last epoch naming no option
    rc, err = _train(capsys, "--out", tmp_path / "run", "--epochs", "1", flag, value)
    assert rc == 2 and match in err, err
    assert not (tmp_path / "run").exists()
