"""The erased-outer-line check (``tools/evaluate/erased.py``): each outer line of a labelled
frame is painted out and nothing else; a lane counts as reported only where the label is."""

from types import SimpleNamespace

import cv2
import numpy as np

from lanecam.pipeline.lanes.result import Lane
from lanecam.tools.evaluate.erased import erased_cases, reports_lane

H_SAMPLES = list(range(400, 720, 10))
LINES = ((-200, 500), (300, 600), (1000, 700), (1500, 800))   # L2, L1, R1, R2: x bottom, top


def _labelled_frame(tmp_path):
    frame = np.full((720, 1280, 3), 90, np.uint8)
    lanes = []
    for x_bottom, x_top in LINES:
        xs = [x_top + (x_bottom - x_top) * (y - 400) / 320 for y in H_SAMPLES]
        pts = np.array(list(zip(xs, H_SAMPLES)), np.int32)
        cv2.polylines(frame, [pts], False, (255, 255, 255), 8)
        lanes.append([round(x) if x >= 0 else -2 for x in xs])
    cv2.imwrite(str(tmp_path / "f.png"), frame)
    return [{"raw_file": "f.png", "lanes": lanes, "h_samples": H_SAMPLES}]


def _bright_at(frame, xs, ys):
    keep = (xs >= 0) & (xs < frame.shape[1])
    x, y = np.round(xs[keep]).astype(int), np.round(ys[keep]).astype(int)
    return (frame[y, x, 0] > 200).mean()


def test_each_outer_line_is_painted_out_alone(tmp_path):
    rows = _labelled_frame(tmp_path)
    cases = list(erased_cases(rows, tmp_path))
    assert [c.name for c in cases] == ["f.png:L2", "f.png:R2"]
    ys = np.asarray(H_SAMPLES, float)
    label = {i: np.asarray(xs, float) for i, xs in enumerate(rows[0]["lanes"])}
    for case, gone in zip(cases, (0, 3)):
        assert np.array_equal(case.xs, label[gone])
        assert _bright_at(case.frame, case.xs, ys) > 0.95       # painted in the original
        for i, xs in label.items():
            bright = _bright_at(case.erased, xs, ys)
            assert bright < 0.05 if i == gone else bright > 0.95, (case.name, i, bright)


def test_a_lane_is_reported_only_where_the_label_is():
    ys = np.asarray(H_SAMPLES, float)
    xs = 500 + 0.5 * (ys - 400)
    frame = np.zeros((720, 1280, 3), np.uint8)

    def detector(x_offset):
        pts = np.stack([xs + x_offset, ys], axis=1).astype(np.float32)
        lane = Lane(slot="L2", points=pts, confidence=1.0, exists=1.0)
        return lambda frame, frame_id: SimpleNamespace(lanes=[lane])

    assert reports_lane(detector(5), frame, xs, ys)
    assert not reports_lane(detector(60), frame, xs, ys)
    assert not reports_lane(lambda f, i: SimpleNamespace(lanes=[]), frame, xs, ys)
