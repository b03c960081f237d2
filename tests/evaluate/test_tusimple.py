"""The TuSimple metric: the documented sanity values on real labels and one case per rule."""

import json
import math

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.tools.evaluate.tusimple import (TuSimpleFormatError, lane_angle, line_accuracy, load_jsonl,
                                     score_files, score_frame, score_frames)

ROWS = list(range(160, 720, 10))  # 56 rows


def vertical(x, start=0, stop=len(ROWS)):
    """A vertical lane at ``x`` on rows [start, stop), -2 elsewhere."""
    return [x if start <= i < stop else -2 for i in range(len(ROWS))]


def shifted(frames, dx):
    return [dict(raw_file=g["raw_file"], run_time=10.0,
                 lanes=[[x + dx if x >= 0 else x for x in lane] for lane in g["lanes"]])
            for g in frames]


# ---- the documented sanity values on ../shared/data/tusimple ------------------------------------
@pytest.fixture(scope="module")
def labels(shared_data):
    return load_jsonl(shared_data / "tusimple" / "labels.json")


def test_ground_truth_scores_perfectly(labels):
    score = score_frames(shifted(labels, 0), labels)
    assert (score.accuracy, score.fp, score.fn) == (1.0, 0.0, 0.0)
    assert len(score.frames) == 6


def test_shift_10px_still_perfect(labels):
    assert score_frames(shifted(labels, 10), labels).accuracy == 1.0


def test_shift_40px_about_063(labels):
    score = score_frames(shifted(labels, 40), labels)
    assert score.accuracy == pytest.approx(0.63, abs=0.01)
    assert score.fn > 0 and score.fp > 0


def test_score_files_roundtrip(labels, tmp_path, shared_data):
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps(p) + "\n" for p in shifted(labels, 0)))
    assert score_files(pred, shared_data / "tusimple" / "labels.json").accuracy == 1.0


# ---- building blocks ----------------------------------------------------------------------------
def test_angle_of_slanted_lane_widens_threshold():
    ys = np.array(ROWS, float)
    xs = 100 + ys  # 45 degrees
    assert lane_angle(xs, ys) == pytest.approx(math.pi / 4)
    gt = list(xs)
    pred = list(xs + 25)  # 25 px off: outside 20 px, inside 20 / cos(45) = 28.3 px
    assert score_frame([pred], [gt], ROWS).accuracy == 1.0
    assert score_frame([list(xs + 30)], [gt], ROWS).accuracy == 0.0


def test_angle_with_fewer_than_two_points_is_zero():
    assert lane_angle(np.array([5.0, -2, -2]), np.array([1.0, 2, 3])) == 0.0


def test_rows_absent_in_both_count_as_correct_and_extra_points_are_wrong():
    gt = np.array(vertical(500, 0, 28), float)          # half the rows
    assert line_accuracy(gt.copy(), gt, 20) == 1.0
    longer = np.array(vertical(500), float)             # predicts where the GT has nothing
    assert line_accuracy(longer, gt, 20) == pytest.approx(0.5)


def test_negative_values_compare_as_minus_100():
    # a GT point at x=0..?: a prediction of -2 (absent) is 100 px away from x=0, so wrong
    gt = np.array([0.0, -2.0])
    assert line_accuracy(np.array([-2.0, -2.0]), gt, 20) == 0.5


# ---- rules --------------------------------------------------------------------------------------
def test_format_error_on_wrong_row_count():
    with pytest.raises(TuSimpleFormatError, match="one per row"):
        score_frame([[1, 2, 3]], [vertical(100)], ROWS)


def test_run_time_over_200ms_scores_zero():
    gt = [vertical(100), vertical(400)]
    assert score_frame(gt, gt, ROWS, run_time_ms=200.0).accuracy == 1.0
    s = score_frame(gt, gt, ROWS, run_time_ms=200.5)
    assert (s.accuracy, s.fp, s.fn, s.rule) == (0.0, 0.0, 1.0, "run_time")


def test_more_than_gt_plus_two_lanes_scores_zero():
    gt = [vertical(100), vertical(400)]
    four = gt + [vertical(700), vertical(1000)]
    s = score_frame(four, gt, ROWS)
    assert s.accuracy == 1.0 and s.fp == pytest.approx(2 / 4)
    s = score_frame(four + [vertical(1200)], gt, ROWS)
    assert (s.accuracy, s.fp, s.fn, s.rule) == (0.0, 0.0, 1.0, "too_many_lanes")


def test_miss_and_false_positive_rates():
    gt = [vertical(100), vertical(400), vertical(700)]
    pred = [vertical(100), vertical(400), vertical(1000)]  # third GT lane missed, one FP
    s = score_frame(pred, gt, ROWS)
    # the missed lane's best accuracy is 0 (its rows are all wrong) ...
    assert s.best == [1.0, 1.0, 0.0]
    assert s.accuracy == pytest.approx(2 / 3)
    assert s.fp == pytest.approx(1 / 3) and s.fn == pytest.approx(1 / 3)


def test_partial_match_below_085_is_a_miss_but_counts_its_accuracy():
    gt = [vertical(300)]
    pred = [vertical(300, 0, 40)]  # 40 of 56 rows right = 0.714
    s = score_frame(pred, gt, ROWS)
    assert s.accuracy == pytest.approx(40 / 56)
    assert (s.fn, s.fp) == (1.0, 1.0)


def test_no_predictions():
    s = score_frame([], [vertical(100), vertical(400)], ROWS)
    assert (s.accuracy, s.fp, s.fn) == (0.0, 0.0, 1.0)


def test_more_than_four_gt_lanes_forgives_one_miss_and_drops_weakest():
    xs = [100, 350, 600, 850, 1100]
    gt = [vertical(x) for x in xs]
    pred = [vertical(x) for x in xs[:4]]      # the fifth lane missed
    s = score_frame(pred, gt, ROWS)
    assert s.accuracy == 1.0                  # (1+1+1+1+0 - 0) / 4
    assert s.fn == 0.0 and s.fp == 0.0
    pred = [vertical(x) for x in xs[:3]]      # two missed: one forgiven
    s = score_frame(pred, gt, ROWS)
    assert s.accuracy == pytest.approx(3 / 4) and s.fn == pytest.approx(1 / 4)


def test_denominator_for_few_gt_lanes():
    s = score_frame([vertical(100)], [vertical(100)], ROWS)
    assert (s.accuracy, s.fp, s.fn) == (1.0, 0.0, 0.0)
    s = score_frame([vertical(100)], [], ROWS)           # no GT lanes: divide by 1
    assert (s.accuracy, s.fp, s.fn) == (0.0, 1.0, 0.0)


# ---- files and bad input ------------------------------------------------------------------------
def _gt(name="a.png"):
    return {"raw_file": name, "lanes": [vertical(100)], "h_samples": ROWS}


def test_every_gt_frame_needs_a_prediction():
    with pytest.raises(InputError, match="no prediction"):
        score_frames([], [_gt()])


def test_prediction_for_unknown_frame():
    pred = {"raw_file": "b.png", "lanes": [], "run_time": 1}
    with pytest.raises(InputError, match="not in the ground truth"):
        score_frames([pred], [_gt()])


def test_prediction_missing_key():
    with pytest.raises(InputError, match="run_time"):
        score_frames([{"raw_file": "a.png", "lanes": []}], [_gt()])


def test_prediction_h_samples_must_match():
    pred = {"raw_file": "a.png", "lanes": [vertical(100)], "run_time": 1, "h_samples": ROWS[::-1]}
    with pytest.raises(TuSimpleFormatError, match="h_samples"):
        score_frames([pred], [_gt()])


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"raw_file": "a"}\n{not json\n')
    with pytest.raises(InputError, match=r"p\.jsonl:2: not valid JSON"):
        load_jsonl(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_jsonl(tmp_path / "nope.jsonl")
