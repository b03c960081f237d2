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


def test_recipe_v2_sets_defaults_and_flags_win():
    import argparse

    from lanecam.pipeline.data_paths import data_path
    from lanecam.tools.train.cli import TEACHER_DIR, _apply_recipe, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = vars(parser.parse_args(["--out", "-"]))
    args = parser.parse_args(["--out", "r", "--recipe", "v2", "--epochs", "3"])
    if data_path("videos") is None:
        pytest.skip("../shared/data absent: the v2 recipe's pseudo-label videos")
    _apply_recipe(args, defaults)
    assert args.epochs == 3                      # given on the command line
    assert args.lr == 1e-3 and args.seed == 2    # from the recipe
    assert args.init_from == str(TEACHER_DIR / "lanefcn-v1.keras")
    assert (TEACHER_DIR / "lanefcn-v1.keras").is_file()
    assert (TEACHER_DIR / "lanefcn-v1.onnx").is_file()
    assert len(args.pseudo_videos) == 3 and all(v.endswith(".mp4") for v in args.pseudo_videos)
    plain = parser.parse_args(["--out", "r"])
    _apply_recipe(plain, defaults)
    assert plain.epochs == 22 and plain.init_from is None and plain.pseudo_videos == []
