"""``lanecam evaluate`` end to end on a tiny generated ONNX model with known output."""

import json

import cv2
import numpy as np
import pytest

from lanecam.pipeline.cli import main

from .conftest import H, ROWS, W, gt_lanes, textured


@pytest.fixture(autouse=True)
def no_run_time_rule(monkeypatch):
    """The metric's 200 ms rule (tested in test_tusimple.py) is lifted here: these tests check
    the scores of a model with known output, and a stall on a busy machine must not zero them."""
    monkeypatch.setattr("lanecam.tools.evaluate.tusimple.MAX_RUN_TIME_MS", float("inf"))


def run(capsys, *argv):
    code = main(["evaluate", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_evaluate_tusimple_folder_report_and_sheet(tiny_model, tusimple_dir,
                                                   tmp_path, capsys):
    extra = tmp_path / "extra"
    extra.mkdir()
    cv2.imwrite(str(extra / "road.jpg"), textured(540, 960))
    report, sheet = tmp_path / "r.json", tmp_path / "s.png"
    code, out, err = run(capsys, "--model", tiny_model, "--tusimple", tusimple_dir,
                         "--images", extra, "--report", report, "--sheet", sheet)
    assert code == 0, err
    assert "tusimple" in out and "1.0000" in out
    rep = json.loads(report.read_text())
    assert rep["tusimple"]["accuracy"] == 1.0
    assert rep["tusimple"]["fp"] == 0.0 and rep["tusimple"]["fn"] == 0.0
    assert rep["tusimple"]["frames"] == 2
    assert rep["spec"]["name"] == "tiny"
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[1] == 3 * 480 + 2 * 4   # 3 tiles in one row
    # tiles show the predicted lanes in slot colour (L1 magenta) with the GT in white on top
    magenta = (img[:, :, 0] > 200) & (img[:, :, 1] < 80) & (img[:, :, 2] > 200)
    white = np.all(img > 220, axis=2)
    for t in range(3):
        assert magenta[:, t * 484:t * 484 + 480].sum() > 100, t
    assert white[40:, :964].sum() > 200 and white[40:, 968:].sum() == 0   # no GT on the extra frame


def test_predict_folder_writes_tusimple_lines_and_scores(tiny_model, tusimple_dir,
                                                         tmp_path, capsys):
    out = tmp_path / "pred.jsonl"
    code, stdout, err = run(capsys, "--model", tiny_model, "--predict", tusimple_dir, "--out", out,
                            "--gt", tusimple_dir / "labels.json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["raw_file"] for r in rows] == ["images/0000.png", "images/0001.png"]
    for r in rows:
        assert r["h_samples"] == ROWS and len(r["lanes"]) == 2
        assert all(len(lane) == len(ROWS) for lane in r["lanes"])
        assert r["run_time"] >= 0
        got = np.array(r["lanes"])
        want = np.array(gt_lanes())
        both = (got >= 0) & (want >= 0)
        assert np.abs(got[both] - want[both]).max() <= 1
    assert "1.0000" in stdout
    # the file scores on its own too
    code, stdout, err = run(capsys, "--gt", tusimple_dir / "labels.json", "--pred", out)
    assert code == 0 and "1.0000" in stdout


def test_predict_custom_h_samples(tiny_model, tusimple_dir, tmp_path, capsys):
    out = tmp_path / "pred.jsonl"
    code, _, err = run(capsys, "--model", tiny_model, "--predict", tusimple_dir / "images",
                       "--out", out, "--h-samples", "200:700:50")
    assert code == 0, err
    row = json.loads(out.read_text().splitlines()[0])
    assert row["raw_file"] == "0000.png" and row["h_samples"] == list(range(200, 700, 50))
    assert row["lanes"][0][0] == -2     # row 200 is above the model's crop


def test_synthetic(tiny_model, tmp_path, capsys):
    pytest.importorskip("lanecam.pipeline.roadsim")
    report = tmp_path / "r.json"
    code, out, err = run(capsys, "--model", tiny_model, "--no-tusimple", "--synthetic", 2,
                         "--report", report)
    assert code == 0, err
    rep = json.loads(report.read_text())
    assert rep["synthetic"]["frames"] == 2 and "slot_iou" in rep["synthetic"]
    assert "per-slot IoU" in out

    # the v3 frames are scored under their own name
    code, out, err = run(capsys, "--model", tiny_model, "--no-tusimple", "--synthetic", 2,
                         "--synthetic-mix", "v3", "--report", report)
    assert code == 0, err
    assert json.loads(report.read_text())["synthetic_v3"]["frames"] == 2


# ---- bad input: one clear line, exit code 2 ------------------------------------------------------
def _labels_without_images(tmp_path):
    root = tmp_path / "t"
    root.mkdir()
    (root / "labels.json").write_text(json.dumps(
        {"raw_file": "images/missing.png", "lanes": [], "h_samples": ROWS}) + "\n")
    return root


def _malformed_pred(tmp_path):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps({"raw_file": "a.png", "lanes": [], "h_samples": ROWS}) + "\n")
    pred = tmp_path / "pred.jsonl"
    pred.write_text('{"raw_file": "a.png", "lanes": [], "run_time": 1}\n{"raw_file": \n')
    return ["--gt", gt, "--pred", pred]


def _empty(tmp):
    folder = tmp / "empty"
    folder.mkdir(exist_ok=True)
    return folder


CASES = [
    ("missing predict dir", lambda t, m: ["--model", m, "--predict", t / "nope", "--out", t / "o.jsonl"],
     "image folder not found"),
    ("empty predict dir", lambda t, m: ["--model", m, "--predict", _empty(t), "--out", t / "o.jsonl"],
     "no images found"),
    ("predict without out", lambda t, m: ["--model", m, "--predict", t], "--out"),
    ("labels without images", lambda t, m: ["--model", m, "--tusimple", _labels_without_images(t)],
     "missing.png' not found"),
    ("folder without labels", lambda t, m: ["--model", m, "--tusimple", t], "expected labels.json"),
    ("malformed JSON line", lambda t, m: _malformed_pred(t), "pred.jsonl:2: not valid JSON"),
    ("pred without gt", lambda t, m: ["--pred", t / "p.jsonl"], "--gt"),
    ("bad h-samples", lambda t, m: ["--model", m, "--predict", _empty(t), "--out", t / "o.jsonl",
                                    "--h-samples", "7:x"], "START:STOP:STEP"),
    ("missing model", lambda t, m: ["--model", t / "none.onnx", "--tusimple", t], ""),
]


@pytest.mark.parametrize("name,argv,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_one_line(name, argv, message, tiny_model, tmp_path, capsys):
    code, out, err = run(capsys, *argv(tmp_path, tiny_model))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lanecam evaluate: error:"), err
    assert message in lines[0]


def test_synthetic_scoring_with_stand_in_renderer(tiny_model, monkeypatch, capsys,
                                                   tmp_path):
    """The synthetic path's metric and IoU against a renderer whose GT equals the model's lines."""
    import sys
    import types

    from .conftest import SPEC, _constant_map

    mask = _constant_map()[0].argmax(axis=2).astype(np.uint8)

    class GT:
        def tusimple_lanes(self, rows):
            assert list(rows) == ROWS
            return gt_lanes()

        def slot_mask(self, height, width, thickness=3, crop_top=0.0, crop_bottom=0.0):
            assert (height, width, crop_top) == (mask.shape[0], mask.shape[1], SPEC.crop_top)
            return mask

    fake = types.ModuleType("lanecam.pipeline.roadsim")
    fake.SLOTS = ("L2", "L1", "R1", "R2")
    fake.random_frame = lambda seed, width, height, mix=None: (textured(height, width, seed), GT())
    monkeypatch.setitem(sys.modules, "lanecam.pipeline.roadsim", fake)
    report = tmp_path / "r.json"
    code, out, err = run(capsys, "--model", tiny_model, "--no-tusimple", "--synthetic", 3,
                         "--report", report)
    assert code == 0, err
    syn = json.loads(report.read_text())["synthetic"]
    assert syn["frames"] == 3 and syn["accuracy"] == 1.0
    assert syn["slot_iou"] == {"L2": None, "L1": 1.0, "R1": 1.0, "R2": None, "mean": 1.0}
    assert "per-slot IoU (synthetic): L2 nan  L1 1.000" in out


def _bad_videos(tmp):
    """Each a --videos argument that is not a usable video, and the words its error must have."""
    (tmp / "photos").mkdir()
    cv2.imwrite(str(tmp / "photos" / "a.png"), textured(90, 160))
    (tmp / "broken").mkdir()
    (tmp / "broken" / "clip.mp4").write_text("not a video\n")
    (tmp / "fake.mp4").write_text("not a video\n")
    return [(tmp / "nope.mp4", "video not found"),
            (tmp / "photos" / "a.png", "not a video file"),
            (tmp / "fake.mp4", "cannot open this video"),
            (tmp / "photos", "no videos in this folder"),
            (tmp / "broken", "clip.mp4: cannot open this video")]


def test_bad_videos_are_refused_before_any_scoring(tmp_path, capsys, monkeypatch):
    from lanecam.tools.evaluate import cli

    opened = []
    monkeypatch.setattr(cli, "_predictor", lambda args: opened.append(args))
    for path, message in _bad_videos(tmp_path):
        code, out, err = run(capsys, "--no-tusimple", "--synthetic", 5, "--sheet",
                             tmp_path / "s.png", "--videos", path)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        assert lines[0].startswith("lanecam evaluate: error: --videos: ") and message in lines[0]
        assert str(path) in lines[0]
    assert opened == []        # no model was opened, so no frame was scored


def test_folders_named_like_report_entries_do_not_overwrite_them(tiny_model, tusimple_dir,
                                                                  tmp_path, capsys):
    import shutil

    pytest.importorskip("lanecam.pipeline.roadsim")
    names = ("spec", "synthetic", "tusimple_all")
    for name in names:
        shutil.copytree(tusimple_dir, tmp_path / name)
    culane = tmp_path / "engine"
    culane.mkdir()
    cv2.imwrite(str(culane / "a.jpg"), textured(H, W))
    (culane / "a.lines.txt").write_text("400 700 600 400\n")
    report = tmp_path / "r.json"
    code, _, err = run(capsys, "--model", tiny_model, "--tusimple", *(tmp_path / n for n in names),
                       "--culane", culane, "--synthetic", 1, "--report", report)
    assert code == 0, err
    rep = json.loads(report.read_text())
    assert rep["spec"]["name"] == "tiny" and isinstance(rep["engine"], str)
    assert rep["synthetic"]["frames"] == 1 and rep["tusimple_all"]["frames"] == 6
    assert [rep[f"{n}-2"]["frames"] for n in names] == [2, 2, 2]
    assert rep["engine-2"]["metric"] == "culane"
    assert sorted(rep["tusimple_all"]["per_frame"])[:2] == ["spec-2/images/0000.png",
                                                           "spec-2/images/0001.png"]


def test_combined_tusimple_weighs_folders_by_frames_and_names_records_as_its_score(
        tiny_model, tusimple_dir, tmp_path):
    import shutil

    from lanecam.tools.evaluate.datasets import combine_tusimple, evaluate_tusimple
    from lanecam.tools.evaluate.predict import Predictor

    good, bad = tmp_path / "good", tmp_path / "bad"
    shutil.copytree(tusimple_dir, good)
    shutil.copytree(tusimple_dir, bad)
    labels = [json.loads(line) for line in (tusimple_dir / "labels.json").read_text().splitlines()]
    (good / "labels.json").write_text(json.dumps(labels[0]) + "\n")     # 1 frame, right lanes
    far = [{**row, "lanes": [[x + 200 if x >= 0 else x for x in lane] for lane in row["lanes"]]}
           for row in labels]
    (bad / "labels.json").write_text("".join(json.dumps(r) + "\n" for r in far))  # 2, wrong
    with Predictor(str(tiny_model)) as predictor:
        one = evaluate_tusimple(predictor, good, name="good")
        two = evaluate_tusimple(predictor, bad, name="bad")
    a, b = one.score.accuracy, two.score.accuracy
    assert a == 1.0 and b < 0.5
    both = combine_tusimple([one, two])
    # a mean over frames: the folders weigh 1 and 2, it is not their plain mean
    assert both.score.accuracy == pytest.approx((a + 2 * b) / 3)
    assert both.score.accuracy != pytest.approx((a + b) / 2)
    assert [rec.name for rec in both.frames] == list(both.score.frames) == [
        "good/images/0000.png", "bad/images/0000.png", "bad/images/0001.png"]
    assert [rec.name for rec in one.frames] == ["images/0000.png"]     # left as they were


def test_crop_top_is_used_reported_and_checked(tiny_model, tmp_path, capsys):
    pytest.importorskip("lanecam.pipeline.roadsim")
    report = tmp_path / "r.json"
    code, out, err = run(capsys, "--model", tiny_model, "--no-tusimple", "--synthetic", 1,
                         "--crop-top", 0.12, "--report", report)
    assert code == 0, err
    assert json.loads(report.read_text())["spec"]["crop_top"] == 0.12
    assert "crop_top 0.12" in out
    with pytest.raises(SystemExit) as stop:     # argparse refuses it: usage + one line
        run(capsys, "--model", tiny_model, "--no-tusimple", "--synthetic", 1, "--crop-top", 0.9)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err
    assert "--crop-top: expected a share of the frame height between 0.0 and 0.8, or auto, " \
           "got '0.9'" in err.strip().splitlines()[-1]
    code, out, err = run(capsys, "--model", tiny_model, "--no-tusimple", "--synthetic", 1,
                         "--crop-top", "auto", "--report", report)
    assert code == 0, err
    assert "crop_top auto" in out
    assert json.loads(report.read_text())["crop_top"] == "auto"
