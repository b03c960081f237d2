"""Overlay: pixels change where things are drawn and nowhere else."""

import numpy as np
import pytest

from lanecam.pipeline.lanes import Lane, LaneResult
from lanecam.pipeline.overlay import SLOT_COLORS, Overlay

H, W = 360, 640
GREY = 90


def lane(slot, x0, x1, y0=150, y1=350):
    ys = np.linspace(y0, y1, 20)
    xs = np.linspace(x0, x1, 20)
    return Lane(slot, np.stack([xs, ys], 1).astype(np.float32), 0.9, 0.9)


def blank():
    return np.full((H, W, 3), GREY, np.uint8)


def test_slot_colors_distinct_for_every_slot():
    assert set(SLOT_COLORS) >= {"L2", "L1", "R1", "R2"}
    assert len(set(SLOT_COLORS.values())) == len(SLOT_COLORS)


def test_lines_drawn_in_slot_colour_and_nowhere_else():
    frame = blank()
    res = LaneResult(0, lanes=[lane("L1", 200, 100), lane("R1", 400, 540)])
    out = Overlay(show_hud=False).draw(frame, res, None)
    assert out is frame
    # on the line: the slot's colour at the line's middle
    assert tuple(frame[250, 150]) == SLOT_COLORS["L1"]
    assert tuple(frame[250, 470]) == SLOT_COLORS["R1"]
    changed = np.any(frame != GREY, axis=2)
    # elsewhere nothing: the middle of the road, above the lines, the corners
    assert not changed[250, 250:380].any()
    assert not changed[:140].any()
    assert not changed[H - 5:].any()
    # the changed pixels are a thin band, a small share of the frame
    assert 0 < changed.mean() < 0.03


def test_ego_fill_blends_inside_polygon_only():
    frame = blank()
    poly = np.array([[300, 200], [340, 200], [420, 350], [220, 350]], np.int32)
    Overlay(show_hud=False, ego_alpha=0.5).draw(frame, LaneResult(0, ego_polygon=poly), None)
    inside = frame[300, 320]
    assert inside[1] > GREY and inside[0] < GREY and inside[2] < GREY  # greener
    # inside the bounding box but outside the polygon: untouched
    assert tuple(frame[210, 225]) == (GREY, GREY, GREY)
    assert tuple(frame[100, 100]) == (GREY, GREY, GREY)


def test_polygon_partly_outside_frame():
    frame = blank()
    poly = np.array([[-100, 300], [700, 300], [700, 500], [-100, 500]], np.int32)
    Overlay(show_hud=False).draw(frame, LaneResult(0, ego_polygon=poly), None)
    assert frame[H - 1, 0, 1] > GREY and frame[299, 0, 1] == GREY


def test_hud_draws_top_left_only():
    frame = blank()
    Overlay().draw(frame, LaneResult(0), {"fps": 31.2, "latency_ms": 45.0, "dropped": 0,
                                          "engine": "onnxruntime/cpu"})
    changed = np.any(frame != GREY, axis=2)
    assert changed[:40, :200].any()
    assert not changed[H // 2:].any() and not changed[:, W - 100:].any()


@pytest.mark.parametrize("hud", [None, {}, {"fps": None, "latency_ms": float("nan")},
                                 {"engine": "x"}, {"dropped": 4}])
def test_hud_with_missing_values(hud):
    frame = blank()
    Overlay().draw(frame, LaneResult(0), hud)
    if not hud or all(v is None or v != v for v in hud.values()):
        assert np.all(frame == GREY)   # nothing to show -> nothing drawn


def test_geometry_values_and_departure_banner():
    frame = blank()
    res = LaneResult(0, geometry={"curvature_radius_m": 420.0, "offset_m": 0.4,
                                  "lane_width_m": 3.6, "departure": "right"})
    Overlay().draw(frame, res, {"fps": 25.0})
    # a red full-width banner somewhere in the upper part
    red = (frame[:, :, 2] > 200) & (frame[:, :, 1] < 40) & (frame[:, :, 0] < 40)
    rows = np.flatnonzero(red[:, W - 5])
    assert len(rows) > 10 and rows.max() < H // 3


def test_no_banner_without_departure():
    frame = blank()
    res = LaneResult(0, geometry={"curvature_radius_m": 100000.0, "offset_m": None,
                                  "departure": "none"})
    Overlay().draw(frame, res, None)
    assert np.all(frame[:, W - 5] == GREY)


def test_none_result_and_frame_size_change():
    ov = Overlay()
    ov.draw(blank(), None, {"fps": 1.0})
    big = np.full((720, 1280, 3), GREY, np.uint8)
    ov.draw(big, LaneResult(0, lanes=[lane("R2", 700, 1200, 400, 700)]), None)
    assert tuple(big[550, 950]) == SLOT_COLORS["R2"]


def test_hud_geometry_text():
    from lanecam.pipeline.overlay.draw import _hud_lines

    lines = _hud_lines({"fps": 25.0}, {"curvature_radius_m": -420.0, "offset_m": 0.4,
                                       "lane_width_m": 3.6, "valid": True})
    assert lines == ["25.0 FPS", "R 420 m left | offset +0.40 m | lane 3.60 m"]
    assert _hud_lines({}, {"curvature_radius_m": 100000.0, "offset_m": None}) == ["R straight"]
