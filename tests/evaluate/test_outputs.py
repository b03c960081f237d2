"""evaluate and calibrate: bad text input and unwritable outputs are one line, exit 2, found
before any work; outputs never overwrite an input."""

import json
import os

import pytest

from lanecam.pipeline.cli import main

needs_non_root = pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")


def _one_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_pred_not_utf8_names_the_file(tmp_path, capsys):
    pred = tmp_path / "pred.jsonl"
    pred.write_bytes(b'{"raw_file": "\xff\xfe"}\n')
    gt = tmp_path / "gt.jsonl"
    gt.write_text(json.dumps({"raw_file": "a.jpg", "lanes": [], "h_samples": []}) + "\n")
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    line = _one_line(capsys)
    assert str(pred) in line and "UTF-8" in line


def test_report_may_not_overwrite_the_labels(tmp_path, capsys):
    gt = tmp_path / "gt.jsonl"
    gt.write_text(json.dumps({"raw_file": "a.jpg", "lanes": [], "h_samples": []}) + "\n")
    before = gt.read_bytes()
    assert main(["evaluate", "--pred", str(gt), "--gt", str(gt), "--report", str(gt)]) == 2
    assert "--report" in _one_line(capsys) and gt.read_bytes() == before


def test_report_into_missing_folder_checked_first(tmp_path, capsys):
    out = tmp_path / "nope" / "r.json"
    assert main(["evaluate", "--synthetic", "1", "--report", str(out)]) == 2
    assert str(out) in _one_line(capsys)


@needs_non_root
def test_calibrate_into_read_only_folder(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["calibrate", str(tmp_path / "photos"), "-o", str(ro / "p.json")]) == 2
        assert "not writable" in _one_line(capsys)
    finally:
        ro.chmod(0o755)


def test_calibrate_output_checked_before_the_search(tmp_path, capsys):
    # the folder has no boards: a late check would report those instead
    photos = tmp_path / "photos"
    photos.mkdir()
    assert main(["calibrate", str(photos), "-o", str(tmp_path / "no" / "p.json")]) == 2
    line = _one_line(capsys)
    assert "-o" in line and "does not exist" in line


@pytest.mark.parametrize("delay", [0.5, 6.0])
def test_sigterm_is_exit_143_in_one_line_and_leaves_no_partial_report(tmp_path, tiny_model,
                                                                        delay):
    """SIGTERM while evaluate starts or scores: exit 143, one line, and the --report and
    --sheet are complete or absent, never half written."""
    import subprocess
    import sys

    from tests.stopping import once_handled, stop_child

    out = tmp_path / "reports"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanecam", "evaluate", "--model", str(tiny_model),
         "--no-tusimple", "--synthetic", "2000", "--report", str(out / "r.json"), "--sheet",
         str(out / "s.png")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = stop_child(proc, once_handled(proc, delay))
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == ["lanecam evaluate: interrupted (SIGTERM)"], err
    assert sorted(p.name for p in out.iterdir()) == []


def test_a_file_where_a_folder_is_expected_is_named_as_such(tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    assert main(["evaluate", "--culane", str(taken)]) == 2
    assert "notes.txt: is a file, expected a CULane folder" in _one_line(capsys)
    # before: "output folder ... does not exist", of a path that exists (as a file)
    assert main(["evaluate", "--synthetic", "1", "--sheet", str(taken / "s.png")]) == 2
    assert "notes.txt is a file, not a folder" in _one_line(capsys)
    assert taken.read_text() == "mine"
