"""`lanecam train` end to end on a tiny budget: checkpoints, resume, export, refusals."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("tensorflow")

TINY = ["--steps", "2", "--batch", "2", "--workers", "1", "--val-count", "4",
        "--synthetic-eval", "2", "--eval-tusimple", "none", "--widths", "8,8,8,8,8",
        "--decoder-width", "8", "--threshold-frames", "2"]


def _train(*args):
    return subprocess.run([sys.executable, "-m", "lanecam", "train", *args],
                          capture_output=True, text=True, timeout=600)


def test_train_resume_export(tmp_path):
    run = tmp_path / "run"
    r = _train("--out", str(run), "--epochs", "1", *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 1 and len(state["history"]) == 1
    rec = state["history"][0]
    assert {"train_loss", "val_loss", "val_miou", "synthetic"} <= set(rec)
    assert (run / "last.keras").is_file() and (run / "model.keras").is_file()

    # the same folder again without --resume is refused, nothing overwritten
    r = _train("--out", str(run), "--epochs", "1", *TINY)
    assert r.returncode == 2 and "--resume" in r.stderr

    export = tmp_path / "export"
    r = _train("--out", str(run), "--epochs", "2", "--resume", "--export", str(export), *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 2 and [h["epoch"] for h in state["history"]] == [1, 2]
    for name in ("lanefcn.onnx", "lanefcn.keras", "lanefcn.spec.json"):
        assert (export / name).is_file()
    spec = json.loads((export / "lanefcn.spec.json").read_text())
    assert spec["crop_top"] == pytest.approx(0.30)
    assert 0.0 < spec["exist_threshold"] < 1.0 and 0.0 < spec["lane_threshold"] < 1.0


def test_bad_arguments(tmp_path):
    r = _train("--out", str(tmp_path / "r"), "--epochs", "0")
    assert r.returncode == 2 and "--epochs" in r.stderr
    r = _train("--out", str(tmp_path / "r"), "--tusimple-labels", str(tmp_path / "x.json"))
    assert r.returncode == 2 and "--tusimple-root" in r.stderr
    r = _train("--out", str(tmp_path / "r"), "--eval-tusimple", str(tmp_path))
    assert r.returncode == 2 and "labels.json" in r.stderr
