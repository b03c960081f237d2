"""JSON lines sink: native and TuSimple records, one line per frame in order."""

import json
import math

import numpy as np
import pytest

from .fakes import Meta, two_lanes
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes.result import LaneResult
from lanecam.pipeline.sinks import JsonLinesSink

FRAME = np.zeros((720, 1280, 3), np.uint8)


def run(sink, results, metas):
    sink.open(1280, 720, 25.0)
    for result, meta in zip(results, metas):
        sink.write(FRAME, result, meta)
    sink.close()
    return [json.loads(line) for line in open(sink.path, encoding="utf-8")]


@pytest.mark.smoke
def test_native_records(tmp_path):
    results = [two_lanes(i) for i in range(3)]
    results[1].geometry = {"curvature_m": math.inf, "offset_m": np.float32(0.25),
                           "departure": "none"}
    results[2] = LaneResult(frame_id=2)  # nothing found
    metas = [Meta(i, source_ts=i / 25.0) for i in range(3)]
    rows = run(JsonLinesSink(tmp_path / "l.jsonl"), results, metas)
    assert [r["frame_id"] for r in rows] == [0, 1, 2]
    first = rows[0]
    assert set(first) >= {"frame_id", "source_ts", "capture_ts", "latency_ms", "lanes",
                          "ego_polygon"}
    assert first["source_ts"] == 0.0 and first["capture_ts"] == pytest.approx(metas[0].capture_ts)
    assert 0 <= first["latency_ms"] < 60_000
    left = first["lanes"][0]
    assert left["slot"] == "L1" and left["confidence"] == 0.912 and left["exists"] == 0.988
    assert left["points"][0] == [600.0, 300.0] and left["points"][-1] == [300.0, 719.0]
    assert all(round(v, 1) == v for p in left["points"] for v in p)  # 0.1 px
    assert first["ego_polygon"][0] == [600, 300]
    assert "geometry" not in first
    assert rows[1]["geometry"] == {"curvature_m": None, "offset_m": 0.25, "departure": "none"}
    assert rows[2]["lanes"] == [] and rows[2]["ego_polygon"] is None


def test_native_without_meta_uses_result_frame_id(tmp_path):
    rows = run(JsonLinesSink(tmp_path / "l.jsonl"), [two_lanes(7)], [None])
    assert rows[0]["frame_id"] == 7 and rows[0]["latency_ms"] is None


def test_tusimple_records(tmp_path):
    h_samples = list(range(160, 720, 10))
    results = [two_lanes(0), two_lanes(1)]
    results[0].timings_ms = {"preprocess": 2.5, "infer": 30.0, "postprocess": 4.0}
    metas = [Meta(0, source_name="0000.png"), Meta(1)]
    sink = JsonLinesSink(tmp_path / "t.jsonl", fmt="tusimple", source_root="images")
    rows = run(sink, results, metas)
    assert rows[0]["raw_file"] == "images/0000.png"
    assert rows[1]["raw_file"] == "images/000001"  # no file name: the frame id
    assert rows[0]["h_samples"] == h_samples
    assert rows[0]["run_time"] == 36.5
    lanes = rows[0]["lanes"]
    assert len(lanes) == 2 and all(len(xs) == len(h_samples) for xs in lanes)
    row_300 = h_samples.index(300)
    assert lanes[0][:row_300] == [-2] * row_300  # above the lane's top: no point
    assert lanes[0][row_300] == 600 and lanes[1][row_300] == 700
    assert lanes[0][h_samples.index(710)] == pytest.approx(306, abs=1)


def test_tusimple_leaves_out_lanes_without_points(tmp_path):
    result = two_lanes(0)
    result.lanes[1].points[:, 1] = np.linspace(10, 100, 8)  # entirely above the first h_sample
    rows = run(JsonLinesSink(tmp_path / "t.jsonl", fmt="tusimple"), [result], [Meta(0)])
    assert len(rows[0]["lanes"]) == 1


def test_tusimple_line_is_scored_by_the_metric(tmp_path):
    evaluate = pytest.importorskip("lanecam.tools.evaluate.tusimple")
    rows = run(JsonLinesSink(tmp_path / "t.jsonl", fmt="tusimple"), [two_lanes(0)],
               [Meta(0, source_name="a.png")])
    h = np.arange(160, 720, 10)

    def line(x_top, x_bottom):  # the same straight lines, computed independently, 8 px off
        xs = np.interp(h, [300, 719], [x_top, x_bottom]) + 8
        return np.where(h >= 300, np.rint(xs), -2).astype(int).tolist()

    gt = {"raw_file": "a.png", "lanes": [line(600, 300), line(700, 1000)], "h_samples": h.tolist()}
    score = evaluate.score_frames(rows, [gt])
    assert (score.accuracy, score.fp, score.fn) == (pytest.approx(1.0), 0, 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"path": "x.jsonl", "fmt": "csv"}, "native or tusimple"),
    ({"path": "no/such/dir/x.jsonl"}, "does not exist"),
])
def test_bad_arguments(tmp_path, monkeypatch, kwargs, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=message):
        JsonLinesSink(**kwargs).open(1280, 720, 25)
