"""Labelled frames stretched as another camera's aspect would show them."""

import cv2
import numpy as np
import pytest

from lanecam.tools.evaluate.geometry import (GEOMETRIES, HORIZON, stretch_frame, stretch_label,
                                             stretch_matrix)

H_SAMPLES = list(range(300, 720, 10))


def _road(width=1280, height=720):
    """Two bright lines from the bottom to near the horizon, and their label lanes."""
    frame = np.full((height, width, 3), 80, np.uint8)
    lanes = []
    for x_bottom, x_top in ((250, 600), (1050, 690)):
        xs = [x_top + (x_bottom - x_top) * (y - 300) / 420 for y in H_SAMPLES]
        cv2.polylines(frame, [np.array(list(zip(xs, H_SAMPLES)), np.int32)], False,
                      (255, 255, 255), 10)
        lanes.append([round(x) for x in xs])
    return frame, lanes


@pytest.mark.parametrize("sx, sy", list(GEOMETRIES.values()))
def test_stretched_labels_lie_on_the_stretched_paint(sx, sy):
    frame, lanes = _road()
    m = stretch_matrix(1280, 720, sx, sy)
    out = stretch_frame(frame, m)
    moved = stretch_label(lanes, H_SAMPLES, m, 1280)
    assert len(moved) == 2
    hits = []
    for lane in moved:
        for x, y in zip(lane, H_SAMPLES):
            if x >= 0:
                hits.append(out[y, x, 0] > 200)
    assert len(hits) > 20 and np.mean(hits) > 0.95
    # the horizon row stays, the rest moves away from it: the far ends keep their rows
    assert m[1, 1] * HORIZON * 720 + m[1, 2] == pytest.approx(HORIZON * 720)


def test_vertical_stretch_drops_the_near_rows_and_keeps_the_far_ones():
    _, lanes = _road()
    moved = stretch_label(lanes, H_SAMPLES, stretch_matrix(1280, 720, 1.0, 1.6), 1280)
    source_row = HORIZON * 720 + (710 - HORIZON * 720) / 1.6      # what row 710 now shows
    for lane, old in zip(moved, lanes):
        assert lane[2] >= 0                 # row 320: still labelled (from row 305)
        # the bottom row shows the source's row ~549: the rows below it left the frame
        assert lane[-1] == pytest.approx(np.interp(source_row, H_SAMPLES, old), abs=1.0)
        assert abs(lane[-1] - old[-1]) > 50
    # a lane pushed out of the frame sideways is dropped, not kept as a stub
    wide = stretch_label([[5] * len(H_SAMPLES)], H_SAMPLES, stretch_matrix(1280, 720, 1.35, 1.0),
                         1280)
    assert wide == []


def test_no_stretch_keeps_the_labels():
    _, lanes = _road()
    assert stretch_label(lanes, H_SAMPLES, stretch_matrix(1280, 720, 1.0, 1.0), 1280) == lanes
