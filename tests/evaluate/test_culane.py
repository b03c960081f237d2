"""The CULane metric (F1 at IoU > 0.5 with 30 px lanes) and `lanecam evaluate --culane`."""

import itertools
import json

import cv2
import numpy as np
import pytest

from lanecam.pipeline.data_paths import data_path
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes import Lane, LaneResult
from lanecam.tools.evaluate import culane
from lanecam.tools.evaluate.culane import (CULaneScore, ego_lines, lane_iou_matrix, match_lanes,
                                           read_lines_txt, score_frame)

SIZE = (1640, 590)


def _lane(x_bottom, x_top, y0=250, y1=589, n=20):
    ys = np.linspace(y1, y0, n)
    return np.stack([np.interp(ys, [y0, y1], [x_top, x_bottom]), ys], axis=1)


def test_identical_lanes_match_and_shifted_ones_do_not():
    gt = [_lane(400, 780), _lane(1200, 860)]
    m = score_frame(gt, gt, SIZE)
    assert (m.tp, m.fp, m.fn) == (2, 0, 0)
    # 10 px off: still the same lane at 30 px width; 40 px off: IoU under 0.5
    near = [p + [10, 0] for p in gt]
    far = [p + [40, 0] for p in gt]
    assert score_frame(near, gt, SIZE).tp == 2
    m = score_frame(far, gt, SIZE)
    assert (m.tp, m.fp, m.fn) == (0, 2, 2)


def test_a_pair_must_beat_the_threshold_not_equal_it(monkeypatch):
    gt = [_lane(400, 780), _lane(1200, 860)]
    # identical lanes have IoU exactly 1: at threshold 1 they do not count (counter.cpp: >)
    assert score_frame(gt, gt, SIZE, threshold=1.0).tp == 0
    monkeypatch.setattr(culane, "lane_iou_matrix", lambda *a: np.array([[0.5, 0.0], [0.0, 0.5001]]))
    m = score_frame(gt, gt, SIZE)
    assert (m.tp, m.fp, m.fn) == (1, 1, 1)


def test_assignment_maximises_total_iou():
    iou = np.array([[0.6, 0.55], [0.58, 0.0]])
    # greedy would take (0, 0) and leave row 1 unmatched; the best total pairs (0,1), (1,0)
    assert sorted(match_lanes(iou)) == [(0, 1), (1, 0)]


def _best_total(iou):
    """The largest total of a one-to-one assignment, by trying them all."""
    if iou.shape[0] > iou.shape[1]:
        iou = iou.T
    n, m = iou.shape
    return max(sum(iou[i, c] for i, c in enumerate(cols))
               for cols in itertools.permutations(range(m), n))


def test_assignment_is_exact_on_any_shape_and_with_ties():
    rng = np.random.default_rng(3)
    for t in range(300):
        iou = rng.random(tuple(rng.integers(1, 7, 2)))
        if t % 2:
            iou = np.round(iou * 3) / 3          # many equal totals
        pairs = match_lanes(iou)
        rows, cols = zip(*pairs)
        assert len(pairs) == min(iou.shape) == len(set(rows)) == len(set(cols))
        assert sum(iou[r, c] for r, c in pairs) == pytest.approx(_best_total(iou)), iou
    assert match_lanes(np.zeros((0, 3))) == [] and match_lanes(np.zeros((2, 0))) == []
    # 8 x 8, the most a frame may have: the best of 8! = 40320 assignments
    iou = rng.random((8, 8))
    assert sum(iou[r, c] for r, c in match_lanes(iou)) == pytest.approx(_best_total(iou))


def test_false_outer_line_is_counted():
    gt = [_lane(400, 780), _lane(1200, 860)]
    pred = gt + [_lane(50, 700)]
    m = score_frame(pred, gt, SIZE, pred_slots=["L1", "R1", "L2"])
    assert (m.tp, m.fp, m.fn, m.false_outer) == (2, 1, 0, True)
    m = score_frame(gt, gt, SIZE, pred_slots=["L1", "R1"])
    assert not m.false_outer
    s = CULaneScore()
    s.add("a", score_frame(pred, gt, SIZE, ["L1", "R1", "L2"]))
    s.add("b", score_frame(gt[:1], gt, SIZE, ["L1"]))
    assert (s.tp, s.fp, s.fn) == (3, 1, 1) and s.f1 == pytest.approx(0.75)
    assert s.to_dict()["false_outer_share"] == 0.5


def test_lines_txt_parsing(tmp_path):
    p = tmp_path / "a.lines.txt"
    p.write_text("10 500 20 400 30 300 \n\n5 5\n-1 -1 40 400 50 300\n")
    lanes = read_lines_txt(p)
    # the blank line is skipped; the one-point lane and the negative point are kept
    assert [len(x) for x in lanes] == [3, 1, 3] and lanes[2][0].tolist() == [-1, -1]
    p.write_text("10 500 20\n")
    with pytest.raises(InputError, match="x y pairs"):
        read_lines_txt(p)
    assert lane_iou_matrix([], lanes, (100, 600)).shape == (0, 3)


def test_short_lanes_count_and_never_match():
    gt = [_lane(400, 780), _lane(1200, 860)]
    one_point = [gt[0][:1]]
    # a one-point GT lane is a missed lane, a one-point prediction a false one, even on the
    # same spot (its IoU is 0)
    m = score_frame(gt + one_point, gt + one_point, SIZE)
    assert (m.tp, m.fp, m.fn) == (2, 1, 1)
    assert lane_iou_matrix(one_point, one_point, SIZE).tolist() == [[0.0]]
    m = score_frame([np.zeros((0, 2))], gt, SIZE)
    assert (m.tp, m.fp, m.fn) == (0, 1, 2)


def test_points_off_the_image_are_kept(tmp_path):
    # a lane leaving the image on the left: its bottom points have x < 0
    lane = _lane(-300, 700)
    assert (lane[:, 0] < 0).sum() >= 5
    p = tmp_path / "a.lines.txt"
    p.write_text(" ".join(f"{x:.2f} {y:.2f}" for x, y in lane) + "\n")
    gt = read_lines_txt(p)
    assert len(gt[0]) == len(lane)
    # drawing clips at the border: the label matches the lane exactly (dropping the
    # off-image points would also lose the on-image piece up to the first point with x >= 0)
    assert lane_iou_matrix([lane], gt, SIZE)[0, 0] == pytest.approx(1.0)


class _OneShortLane:
    """A Predictor stand-in that finds one short lane on every frame."""

    def __call__(self, frame, frame_id=0):
        short = Lane("L1", np.array([[10.0, 20.0]], np.float32), 0.9, 0.9)
        return LaneResult(frame_id=frame_id, lanes=[short]), 1.0


def test_too_many_lanes_names_the_label_file_and_short_predictions_count(tmp_path):
    from lanecam.tools.evaluate.datasets import evaluate_culane

    cv2.imwrite(str(tmp_path / "a.jpg"), np.zeros((590, 1640, 3), np.uint8))
    labels = tmp_path / "a.lines.txt"
    labels.write_text("10 500 20 400\n")
    res = evaluate_culane(_OneShortLane(), tmp_path)
    assert (res.score.tp, res.score.fp, res.score.fn) == (0, 1, 1)
    labels.write_text("10 500 20 400\n" * 9)
    with pytest.raises(InputError, match=r"a\.lines\.txt: CULane metric: at most 8 lanes"):
        evaluate_culane(_OneShortLane(), tmp_path)


def _tusimple_as_culane(src, dst):
    """Write a TuSimple folder's frames and labels in CULane form (JPEG + .lines.txt)."""
    for line in (src / "labels.json").read_text().splitlines():
        row = json.loads(line)
        name = row["raw_file"].replace("/", "_").rsplit(".", 1)[0]
        cv2.imwrite(str(dst / f"{name}.jpg"), cv2.imread(str(src / row["raw_file"])))
        with open(dst / f"{name}.lines.txt", "w") as fh:
            for xs in row["lanes"]:
                pts = [f"{x} {y}" for x, y in zip(xs, row["h_samples"]) if x >= 0]
                if len(pts) >= 2:
                    fh.write(" ".join(pts) + "\n")


@pytest.mark.skipif(data_path("tusimple", "labels.json") is None, reason="../shared/data absent")
def test_evaluate_culane_folder_and_both_tusimple_folders(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from lanecam.pipeline.cli import main

    culane = tmp_path / "culane"
    culane.mkdir()
    _tusimple_as_culane(data_path("tusimple"), culane)
    report = tmp_path / "r.json"
    code = main(["evaluate", "--culane", str(culane), "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0
    rep = json.loads(report.read_text())
    assert rep["culane"]["frames"] == 6 and "F1" in out
    # the ego lines of these highway frames are found by the shipped model
    assert 0.5 < rep["culane"]["f1"] <= 1.0
    if data_path("tusimple-test", "labels.json") is not None:
        assert rep["tusimple"]["frames"] == 6 and rep["tusimple-test"]["frames"] == 9
        assert rep["tusimple_all"]["frames"] == 15
        lo = min(rep["tusimple"]["accuracy"], rep["tusimple-test"]["accuracy"])
        hi = max(rep["tusimple"]["accuracy"], rep["tusimple-test"]["accuracy"])
        assert lo <= rep["tusimple_all"]["accuracy"] <= hi


def test_video_frames_are_evenly_spaced_and_on_the_sheet(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from lanecam.pipeline.cli import main
    from lanecam.tools.evaluate.video_frames import spaced_frames

    (tmp_path / "v").mkdir()
    video = tmp_path / "v" / "clip.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25, (320, 180))
    rng = np.random.default_rng(0)
    for i in range(25):
        frame = rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)
        cv2.putText(frame, str(i), (10, 100), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        out.write(frame)
    out.release()
    assert [i for i, _ in spaced_frames(video, 5)] == [0, 6, 12, 18, 24]
    sheet = tmp_path / "s.png"
    (tmp_path / "i").mkdir()
    cv2.imwrite(str(tmp_path / "i" / "one.png"), rng.integers(0, 255, (90, 160, 3), np.uint8))
    code = main(["evaluate", "--no-tusimple", "--synthetic", "1", "--images", str(tmp_path / "i"),
                 "--sheet", str(sheet), "--videos", str(tmp_path / "v"), "--video-frames", "3"])
    err = capsys.readouterr()
    assert code == 0, err.err
    assert "(4 frames" in err.out      # the image and 3 video frames
    code = main(["evaluate", "--no-tusimple", "--videos", str(video)])
    assert code == 2 and "--sheet" in capsys.readouterr().err


def test_both_ego_lines_share():
    """The ego lane's lines are the labelled ones nearest the image centre at the bottom row,
    one each side; a frame counts when both are matched, whatever else is."""
    l2, l1, r1 = _lane(50, 700), _lane(400, 780), _lane(1200, 860)
    gt = [l2, l1, r1]
    m = score_frame([l1, r1], gt, SIZE, ["L1", "R1"])
    assert m.ego_labelled and m.ego_found and m.fn == 1
    m = score_frame([l2, l1], gt, SIZE, ["L2", "L1"])      # R1 missed
    assert m.ego_labelled and not m.ego_found
    m = score_frame([l1], [l2, l1], SIZE, ["L1"])          # no labelled line right of centre
    assert not m.ego_labelled and not m.ego_found
    s = CULaneScore()
    for name, pred in (("a", [l1, r1]), ("b", [l2, l1]), ("c", [r1, l1, l2])):
        s.add(name, score_frame(pred, gt, SIZE))
    s.add("d", score_frame([l1], [l2, l1], SIZE))
    assert (s.ego_frames, s.ego_found_frames) == (3, 2)
    assert s.to_dict()["ego_found_share"] == pytest.approx(0.6667, abs=1e-4)


def test_ego_lines_extend_the_lowest_points_to_the_bottom_row():
    """A line labelled only far up belongs to the side it reaches at the bottom row."""
    w, h = SIZE
    steep = np.array([[w / 2 + 40, h * 0.5], [w / 2 + 20, h * 0.6]])   # heads left of centre
    right = np.array([[w / 2 + 200, h * 0.5], [w / 2 + 400, h - 1.0]])
    assert ego_lines([steep, right], SIZE) == (0, 1)
    assert ego_lines([right], SIZE) is None
