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

    # a resume without --epochs keeps the run's own schedule (2), not the default (22)
    r = _train("--out", str(run), "--resume", *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "already finished 2 epochs" in r.stdout
    assert json.loads((run / "state.json").read_text())["epoch"] == 2


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
    if data_path("videos") is None:
        pytest.skip("../shared/data absent: the v2 recipe's pseudo-label videos")
    # a flag equal to the plain default still wins over the recipe
    args = parser.parse_args(["--out", "r", "--recipe", "v2", "--epochs", "22", "--seed", "0"])
    _apply_recipe(args)
    assert args.epochs == 22 and args.seed == 0
    assert args.lr == 1e-3 and args.pseudo_fraction == 0.25     # from the recipe
    assert args.init_from == str(TEACHER_DIR / "lanefcn-v1.keras")
    assert (TEACHER_DIR / "lanefcn-v1.keras").is_file()
    assert (TEACHER_DIR / "lanefcn-v1.onnx").is_file()
    assert len(args.pseudo_videos) == 3 and all(v.endswith(".mp4") for v in args.pseudo_videos)
    plain = parser.parse_args(["--out", "r"])
    _apply_recipe(plain)
    assert plain.epochs == 22 and plain.lr == 3e-3 and plain.init_from is None
    assert plain.pseudo_videos == []


def _recipe(name):
    """(parser, args) for ``--recipe name`` with the recipe applied; skips without videos."""
    import argparse

    from lanecam.pipeline.data_paths import data_path
    from lanecam.tools.train.cli import _apply_recipe, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    if data_path("videos") is None:
        pytest.skip(f"../shared/data absent: the {name} recipe's pseudo-label videos")
    args = parser.parse_args(["--out", "r", "--recipe", name])
    _apply_recipe(args)
    return parser, args


def test_recipe_v3_grows_v2():
    from lanecam.tools.train.cli import TEACHER_DIR, _widths

    _, args = _recipe("v3")
    assert args.init_from == str(TEACHER_DIR / "lanefcn-v2.keras")
    assert args.teacher == str(TEACHER_DIR / "lanefcn-v2.onnx")
    assert (TEACHER_DIR / "lanefcn-v2.keras").is_file() and (TEACHER_DIR / "lanefcn-v2.onnx").is_file()
    assert _widths(args.widths) == (32, 48, 64, 96, 160) and args.decoder_width == 48
    assert args.input_size == "320x128" and args.model_version == "3"
    assert args.pseudo_night == 0.0


def test_recipe_without_videos_is_one_line(tmp_path, monkeypatch):
    import argparse

    from lanecam.pipeline.errors import InputError
    from lanecam.tools.train.cli import _apply_recipe, add_arguments

    (tmp_path / "videos").mkdir()
    monkeypatch.setenv("LANECAM_DATA", str(tmp_path))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(InputError, match="needs real videos"):
        _apply_recipe(parser.parse_args(["--out", "r", "--recipe", "v2"]))


def test_fractions_are_checked_only_for_the_data_in_use():
    from lanecam.pipeline.errors import InputError
    from lanecam.tools.train.trainer import TrainConfig, check_config

    # no --pseudo-videos: the pseudo share does not count against --real-fraction
    check_config(TrainConfig(out="x", data_labels=["l.json"], data_root="r", real_fraction=0.9))
    with pytest.raises(InputError, match="at most 1 together"):
        check_config(TrainConfig(out="x", data_labels=["l.json"], data_root="r",
                                 real_fraction=0.9, pseudo_videos=[__file__]))
    with pytest.raises(InputError, match="--real-fraction"):
        check_config(TrainConfig(out="x", real_fraction=1.5))
    with pytest.raises(InputError, match="--teacher"):
        check_config(TrainConfig(out="x", teacher="/no/such/model.onnx"))
    with pytest.raises(InputError, match="--pseudo-night"):
        check_config(TrainConfig(out="x", pseudo_night=-0.1))
    with pytest.raises(InputError, match="--pseudo-outer"):
        check_config(TrainConfig(out="x", pseudo_outer=1.5))
    check_config(TrainConfig(out="x", pseudo_outer=0.9))
    with pytest.raises(InputError, match="--scene-mix"):
        check_config(TrainConfig(out="x", scene_mix="v9"))
    with pytest.raises(InputError, match="--pseudo-absent"):
        check_config(TrainConfig(out="x", pseudo_absent=0.0))
    with pytest.raises(InputError, match="--exist-weight"):
        check_config(TrainConfig(out="x", exist_weight=-0.5))
    with pytest.raises(InputError, match="--erase-outer"):
        check_config(TrainConfig(out="x", erase_outer=1.2))
    with pytest.raises(InputError, match="--barriers"):
        check_config(TrainConfig(out="x", erase_outer=0.5, barriers=-0.1))
    # barriers stand where an outer line was erased: without the erasing there are none
    with pytest.raises(InputError, match="--barriers.*--erase-outer"):
        check_config(TrainConfig(out="x", barriers=0.5))
    with pytest.raises(InputError, match="--aspect-jitter"):
        check_config(TrainConfig(out="x", aspect_jitter=1.5))


def test_exist_weight_flag_reaches_the_config():
    """--exist-weight: 0.5 (the weight every shipped model was trained with) unless given."""
    import argparse

    from lanecam.tools.train.cli import _apply_recipe, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    plain = parser.parse_args(["--out", "r"])
    _apply_recipe(plain)
    given = parser.parse_args(["--out", "r", "--exist-weight", "2"])
    _apply_recipe(given)
    assert (plain.exist_weight, given.exist_weight) == (0.5, 2.0)
    erase = parser.parse_args(["--out", "r", "--erase-outer", "0.3"])
    _apply_recipe(erase)
    assert (plain.erase_outer, erase.erase_outer) == (0.0, 0.3)
    walls = parser.parse_args(["--out", "r", "--erase-outer", "0.5", "--barriers", "0.6"])
    _apply_recipe(walls)
    assert (plain.barriers, walls.barriers) == (0.0, 0.6)
    views = parser.parse_args(["--out", "r", "--recipe", "v7", "--aspect-jitter", "0.5"])
    _apply_recipe(views)
    assert (plain.aspect_jitter, views.aspect_jitter, views.erase_outer) == (0.0, 0.5, 0.5)
    with pytest.raises(SystemExit):        # not a finite number: argparse's one line, exit 2
        parser.parse_args(["--out", "r", "--exist-weight", "nan"])


def test_recipe_v4_trains_on_from_v3_with_night_frames():
    from lanecam.tools.train.cli import TEACHER_DIR, _apply_recipe, _widths

    parser, args = _recipe("v4")
    assert args.init_from == str(TEACHER_DIR / "lanefcn-v3.keras")
    assert args.teacher == str(TEACHER_DIR / "lanefcn-v3.onnx")
    assert (TEACHER_DIR / "lanefcn-v3.keras").is_file() and (TEACHER_DIR / "lanefcn-v3.onnx").is_file()
    assert _widths(args.widths) == (32, 48, 64, 96, 160) and args.model_version == "4"
    assert args.pseudo_night == 0.3 and args.pseudo_fraction == 0.3
    assert args.pseudo_outer is None      # trusting outer lines was tried for v4 and not kept
    # a flag wins over the recipe; without a recipe, no night frames
    assert parser.parse_args(["--out", "r", "--recipe", "v4", "--pseudo-night", "0"]).pseudo_night == 0
    plain = parser.parse_args(["--out", "r"])
    _apply_recipe(plain)
    assert plain.pseudo_night == 0.0


def test_recipe_v5_trains_on_from_v4():
    from lanecam.tools.train.cli import TEACHER_DIR, _widths

    _, args = _recipe("v5")
    assert args.init_from == str(TEACHER_DIR / "lanefcn-v4.keras")
    assert args.teacher == str(TEACHER_DIR / "lanefcn-v4.onnx")
    assert (TEACHER_DIR / "lanefcn-v4.keras").is_file() and (TEACHER_DIR / "lanefcn-v4.onnx").is_file()
    assert _widths(args.widths) == (32, 48, 64, 96, 160) and args.model_version == "5"
    assert args.pseudo_night == 0.3 and args.seed == 6
    assert not args.tusimple_labels and not args.hold_out     # v5 saw no real labels


def test_recipe_v6_trains_on_from_v5_with_real_labels():
    """v5 trained on, taught by v5, with the real training frames (0601 held out)."""
    from lanecam.pipeline.data_paths import data_path
    from lanecam.tools.train.cli import TEACHER_DIR, _widths

    if data_path("tusimple-train", "labels.json") is None or data_path("videos") is None:
        pytest.skip("../shared/data/tusimple-train or videos/ absent")
    _, args = _recipe("v6")
    assert args.init_from == str(TEACHER_DIR / "lanefcn-v5.keras")
    assert args.teacher == str(TEACHER_DIR / "lanefcn-v5.onnx")
    assert (TEACHER_DIR / "lanefcn-v5.keras").is_file() and (TEACHER_DIR / "lanefcn-v5.onnx").is_file()
    assert args.tusimple_labels == [str(data_path("tusimple-train", "labels.json"))]
    assert args.hold_out and args.strong_augment and args.encoder == "lanefcn"
    assert (args.real_fraction, args.pseudo_fraction, args.pseudo_night) == (0.3, 0.2, 0.3)
    assert args.pseudo_videos and args.scene_mix == "v3" and args.erase_outer == 0.0
    assert _widths(args.widths) == (32, 48, 64, 96, 160) and args.model_version == "6"
    assert (TEACHER_DIR / "lanefcn-v6.onnx").is_file()      # v6 ships as a named model


def test_recipe_v7_is_the_bundled_models_recipe():
    """v6's recipe, key for key, plus outer lines painted out of half the real frames."""
    from lanecam.engines.loader import default_model_path
    from lanecam.engines.modelspec import ModelSpec
    from lanecam.pipeline.data_paths import data_path

    if data_path("tusimple-train", "labels.json") is None or data_path("videos") is None:
        pytest.skip("../shared/data/tusimple-train or videos/ absent")
    _, v6 = _recipe("v6")
    _, v7 = _recipe("v7")
    differ = {k for k in vars(v7) if k != "recipe" and getattr(v6, k) != getattr(v7, k)}
    assert differ == {"erase_outer", "model_version"}
    assert (v7.erase_outer, v7.model_version) == (0.5, "7")
    # the recipe's network is the bundled model's: same input and card version
    card = ModelSpec.from_json(default_model_path().with_name("lanefcn.spec.json").read_text(),
                               "bundled")
    assert (card.input_width, card.input_height, card.version) == (320, 128, "7")


def test_train_on_a_culane_folder(tmp_path):
    """--culane: the folder's frames are converted into the run folder and trained on as the
    real share of the batches (here every sample)."""
    from .test_data import _culane_folder

    root, _, _ = _culane_folder(tmp_path / "culane")
    run = tmp_path / "run"
    r = _train("--out", str(run), "--epochs", "1", "--culane", str(root), "--real-fraction", "1",
               *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = (run / "culane" / "labels.json").read_text().splitlines()
    assert len(rows) == 2
    assert json.loads((run / "state.json").read_text())["config"]["culane"] == [str(root)]
    # a folder with no CULane frame: one line before any training
    (tmp_path / "empty").mkdir()
    r = _train("--out", str(tmp_path / "run2"), "--culane", str(tmp_path / "empty"), *TINY)
    assert r.returncode == 2 and "expected CULane frames" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("kind", ["tusimple", "culane"])
def test_bad_label_values_are_one_line_without_tensorflow_chatter(tmp_path, kind):
    """Non-numeric TuSimple x values (a ValueError from a pool worker before) and NaN CULane
    points (silently trained on, or a traceback): exit 2 with one line naming the file and
    the line; and nothing else on stderr, TensorFlow's start-up lines included."""
    if kind == "tusimple":
        (tmp_path / "a.png").write_bytes(b"")
        labels = tmp_path / "labels.json"
        labels.write_text(json.dumps({"raw_file": "a.png", "lanes": [["x", 1]],
                                      "h_samples": [300, 310]}) + "\n")
        args = ["--tusimple-labels", str(labels), "--tusimple-root", str(tmp_path)]
        where = f"{labels}: line 1: lane 0: expected numbers, got 'x'"
    else:
        from .test_data import _culane_folder

        root, _, _ = _culane_folder(tmp_path / "culane", n=1)
        labels = next(root.rglob("*.lines.txt"))
        labels.write_text("100 590 nan 500\n")
        args = ["--culane", str(root)]
        where = f"{labels}: line 1: lane: expected finite pixel coordinates"
    r = _train("--out", str(tmp_path / "run"), "--epochs", "1", *args, *TINY)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.strip().splitlines() == [f"lanecam train: error: {where}" + (
        "" if kind == "tusimple" else " within +-100000, got nan")], r.stderr[-3000:]


def test_recipe_v6_effnet_trains_on_the_real_training_frames_with_0601_held_out():
    from lanecam.pipeline.data_paths import data_path

    if data_path("tusimple-train", "labels.json") is None:
        pytest.skip("../shared/data/tusimple-train absent")
    _, args = _recipe("v6-effnet")
    assert args.tusimple_labels == [str(data_path("tusimple-train", "labels.json"))]
    assert args.tusimple_root == str(data_path("tusimple-train"))
    assert args.hold_out and args.strong_augment
    assert args.encoder == "effnet-lite0" and args.freeze_blocks == 5
    assert (args.steps, args.epochs, args.real_fraction) == (200, 8, 0.6)
    # a flag given wins over the recipe
    import argparse

    from lanecam.tools.train.cli import _apply_recipe, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    own = parser.parse_args(["--out", "r", "--recipe", "v6-effnet", "--steps", "10",
                             "--real-fraction", "0.2"])
    _apply_recipe(own)
    assert (own.steps, own.real_fraction) == (10, 0.2)


def test_fixed_thresholds_are_written_and_hold_out_can_be_turned_off(tmp_path):
    """``--thresholds`` skips choosing them (a run fitted on every real frame has none left
    to choose on) and ``--no-hold-out`` turns off a recipe's held-out drive."""
    import argparse

    from lanecam.tools.train.cli import _apply_recipe, add_arguments

    export = tmp_path / "export"
    r = _train("--out", str(tmp_path / "run"), "--epochs", "1", "--thresholds", "0.45,0.65",
               "--export", str(export), *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "thresholds: fixed at lane 0.45, exist 0.65" in r.stdout + r.stderr
    spec = json.loads((export / "lanefcn.spec.json").read_text())
    assert (spec["lane_threshold"], spec["exist_threshold"]) == (0.45, 0.65)
    for bad in ("0.5", "0.5,1.5", "a,b", "0.5,0.5,0.5"):
        r = _train("--out", str(tmp_path / "bad"), "--thresholds", bad, *TINY)
        assert r.returncode == 2 and "--thresholds: expected two probabilities" in r.stderr
        assert "Traceback" not in r.stderr

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    for flags, expected in (([], True), (["--no-hold-out"], False), (["--hold-out"], True)):
        args = parser.parse_args(["--out", "r", "--recipe", "v6", *flags])
        args.pseudo_videos, args.tusimple_labels, args.tusimple_root = [], [], "x"  # no data
        _apply_recipe(args)
        assert args.hold_out is expected
