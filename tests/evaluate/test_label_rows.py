"""Lane rows read from files are checked when read: one line naming the file and the line
for text, NaN, infinities, absurd coordinates and lanes of the wrong length; never a traceback,
a numpy RuntimeWarning or garbage scored (``evaluate --gt/--pred``, ``--tusimple``,
``--culane``)."""

import json
import warnings

import pytest

from lanecam.pipeline.cli import main
from lanecam.pipeline.errors import InputError
from lanecam.tools.evaluate.culane import read_lines_txt
from lanecam.tools.evaluate.label_rows import MAX_COORD, coordinates, label_row, prediction_row

from .conftest import ROWS, gt_lanes

GOOD = {"raw_file": "images/0000.png", "lanes": [[-2, 100, 110], [300, 310, -2]],
        "h_samples": [400, 410, 420]}

BAD_VALUES = [("abc", "'abc'"), (None, "None"), (True, "True"), (float("nan"), "nan"),
              (float("inf"), "inf"), (float("-inf"), "-inf"), (1e300, "1e+300"),
              (-2147483649, "-2147483649"),
              (10 ** 400, "got 1000000000000000000000000000000000000...")]


@pytest.mark.parametrize("value, shown", BAD_VALUES)
def test_a_bad_coordinate_is_named_with_its_place(value, shown):
    row = json.loads(json.dumps(GOOD))
    row["lanes"][1][2] = value
    with pytest.raises(InputError, match=r"^labels.json: line 7: lane 1: expected ") as exc:
        label_row(row, "labels.json: line 7")
    assert shown in str(exc.value)


def test_the_bound_and_no_point_values():
    assert coordinates([-2, 0, MAX_COORD, -MAX_COORD, 12.5], "f") == [-2, 0, MAX_COORD,
                                                                       -MAX_COORD, 12.5]
    with pytest.raises(InputError, match="within"):
        coordinates([MAX_COORD + 1], "f")
    assert label_row(GOOD, "f") is GOOD


@pytest.mark.parametrize("change, match", [
    ({"lanes": [[1, 2]]}, r"lane 0 has 2 x values, expected one per row \(3 h_samples\)"),
    ({"h_samples": [400, "x", 420]}, r"h_samples: expected numbers, got 'x'"),
    ({"h_samples": 5}, r"h_samples: expected a list of numbers, got int"),
    ({"lanes": {"a": 1}}, r"lanes: expected a list of lanes"),
    ({"lanes": [5]}, r"lane 0: expected a list of numbers, got int"),
    ({"raw_file": 3}, r"raw_file: expected a file name, got 3"),
])
def test_label_rows_of_the_wrong_shape(change, match):
    with pytest.raises(InputError, match=match):
        label_row({**GOOD, **change}, "f: line 1")


@pytest.mark.parametrize("change, match", [
    ({"run_time": float("nan")}, "run_time: expected milliseconds"),
    ({"run_time": "fast"}, "run_time: expected milliseconds"),
    ({"run_time": -1}, "run_time: expected milliseconds"),
    ({"lanes": [[1, float("inf"), 3]]}, "lane 0: expected finite pixel coordinates"),
    ({"h_samples": [1, 2]}, r"lane 0 has 3 x values, expected one per row \(2 h_samples\)"),
])
def test_prediction_rows(change, match):
    row = {"raw_file": "a.png", "lanes": [[1, 2, 3]], "run_time": 5.0}
    assert prediction_row(dict(row), "p") == row
    with pytest.raises(InputError, match=match):
        prediction_row({**row, **change}, "p: line 2")


def _lines(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _evaluate(capsys, *argv):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["evaluate", *map(str, argv)])
    err = capsys.readouterr().err
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], caught
    return code, err


def _gt(tmp_path):
    rows = [{"raw_file": f"images/{i:04d}.png", "lanes": gt_lanes(), "h_samples": ROWS}
            for i in range(3)]
    return _lines(tmp_path / "gt.json", rows), rows


@pytest.mark.parametrize("lane_text, match", [
    ('["a", 1]', "lane 0: expected numbers, got 'a'"),
    ("[NaN, 1]", "lane 0: expected finite pixel coordinates within +-100000, got nan"),
    ("[Infinity, 1]", "got inf"),
    ("[1e300, 1]", "got 1e+300"),
    ("[-2147483649, 1]", "got -2147483649"),
    ("[1, 2]", "lane 0 has 2 x values, expected one per row (56 h_samples of {gt}: line 2)"),
])
def test_evaluate_a_bad_prediction_file_is_one_line_naming_file_and_line(
        tmp_path, capsys, lane_text, match):
    gt, rows = _gt(tmp_path)
    if "x values" not in match:  # a row of the right length holding one bad value
        lane_text = lane_text[:-1] + ", 1" * (len(ROWS) - 2) + "]"
    preds = [json.dumps({"raw_file": r["raw_file"], "lanes": r["lanes"], "run_time": 1.0})
             for r in rows]
    preds[1] = ('{"raw_file": "images/0001.png", "run_time": 1.0, "lanes": [%s]}' % lane_text)
    pred = _lines(tmp_path / "pred.jsonl", preds)
    code, err = _evaluate(capsys, "--gt", gt, "--pred", pred)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert f"{pred}: line 2: " in err
    assert match.format(gt=gt) in err, err


def test_evaluate_a_bad_label_file_is_one_line_naming_file_and_line(tmp_path, capsys):
    gt, rows = _gt(tmp_path)
    rows[2]["h_samples"] = ROWS[:-1] + [float("nan")]
    _lines(gt, rows)
    pred = _lines(tmp_path / "pred.jsonl", [{**r, "run_time": 1.0} for r in rows[:2]])
    code, err = _evaluate(capsys, "--gt", gt, "--pred", pred)
    assert code == 2 and err.strip().splitlines() == [
        f"lanecam evaluate: error: {gt}: line 3: h_samples: expected finite pixel coordinates "
        f"within +-100000, got nan"], err


@pytest.mark.parametrize("bad", [["x"] * len(ROWS), [1] * (len(ROWS) + 1)])
def test_evaluate_tusimple_folder_with_a_bad_row(tiny_model, tusimple_dir, capsys, bad):
    labels = tusimple_dir / "labels.json"
    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    rows[1]["lanes"][0] = bad
    _lines(labels, ["", *rows])   # a blank first line: the row is on line 3
    code, err = _evaluate(capsys, "--model", tiny_model, "--tusimple", tusimple_dir)
    assert code == 2, err
    assert err.strip().startswith(f"lanecam evaluate: error: {labels}: line 3: lane 0")
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("text", ["nan 500 600 400", "100 500 inf 400", "1e300 500 600 400",
                                  "-2147483649 500 600 400"])
def test_culane_lines_with_non_finite_or_absurd_values_are_refused(tmp_path, text):
    path = tmp_path / "a.lines.txt"
    path.write_text("100 500 200 400\n" + text + "\n")
    with pytest.raises(InputError, match=rf"^{path}: line 2: lane: expected finite pixel"):
        read_lines_txt(path)


def test_evaluate_culane_folder_with_nan_is_one_line(tiny_model, tmp_path, capsys):
    import cv2
    import numpy as np

    folder = tmp_path / "culane"
    folder.mkdir()
    cv2.imwrite(str(folder / "f.jpg"), np.zeros((72, 128, 3), np.uint8))
    (folder / "f.lines.txt").write_text("10 70 nan 40\n")
    code, err = _evaluate(capsys, "--model", tiny_model, "--culane", folder, "--no-tusimple")
    assert code == 2 and err.strip().splitlines() == [
        f"lanecam evaluate: error: {folder / 'f.lines.txt'}: line 1: lane: expected finite "
        f"pixel coordinates within +-100000, got nan"], err
