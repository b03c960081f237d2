"""The CULane metric (F1 at IoU 0.5 with 30 px lanes) and `lanecam evaluate --culane`."""

import json

import cv2
import numpy as np
import pytest

from lanecam.pipeline.data_paths import data_path
from lanecam.pipeline.errors import InputError
from lanecam.tools.evaluate.culane import (CULaneScore, lane_iou_matrix, match_lanes,
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


def test_assignment_maximises_total_iou():
    iou = np.array([[0.6, 0.55], [0.58, 0.0]])
    # greedy would take (0, 0) and leave row 1 unmatched; the best total pairs (0,1), (1,0)
    assert sorted(match_lanes(iou)) == [(0, 1), (1, 0)]


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
    assert [len(x) for x in lanes] == [3, 2]    # one-point lane dropped, negative points too
    p.write_text("10 500 20\n")
    with pytest.raises(InputError, match="x y pairs"):
        read_lines_txt(p)
    assert lane_iou_matrix([], lanes, (100, 600)).shape == (0, 2)


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
