"""``--crop-top auto`` (``pipeline.lanes.horizon``): the crop follows where the ego lines meet."""

import numpy as np
import pytest

from lanecam.pipeline.lanes.horizon import (AUTO, MARGIN, AutoCrop, parse_crop_top,
                                            vanishing_share)
from lanecam.pipeline.lanes.result import Lane, LaneResult


def _line(slot, x_bottom, x_meet, y_meet, height=720, top=None):
    """A straight lane line from the bottom row up to ``top`` (default: 60 px below the
    meeting point), pointing at (x_meet, y_meet)."""
    top = y_meet + 60 if top is None else top
    ys = np.linspace(top, height - 1, 24)
    xs = x_bottom + (x_meet - x_bottom) * (height - 1 - ys) / (height - 1 - y_meet)
    return Lane(slot, np.stack([xs, ys], 1).astype(np.float32), 0.9, 0.9)


def _result(y_meet, height=720, bend=0.0):
    left = _line("L1", 300, 640, y_meet, height)
    right = _line("R1", 1000, 640, y_meet, height)
    if bend:   # far ends bending away, as on a curve: only the near part is fitted
        far = left.points[:, 1] < y_meet + 0.3 * (height - y_meet)
        left.points[far, 0] += bend
    return LaneResult(0, lanes=[left, right])


def test_parse_takes_a_share_or_auto_and_refuses_the_rest():
    assert parse_crop_top("auto") == parse_crop_top(" AUTO ") == AUTO
    assert parse_crop_top("0.2") == parse_crop_top(0.2) == 0.2
    assert parse_crop_top(0) == 0.0
    for bad in ("0.9", -0.1, "x", True, None, ""):
        with pytest.raises(ValueError, match="between 0.0 and 0.8, or auto"):
            parse_crop_top(bad)
    for bad in ("nan", "inf", float("-inf")):
        with pytest.raises(ValueError, match="a finite number"):
            parse_crop_top(bad)


def test_the_meeting_row_of_straight_ego_lines():
    assert vanishing_share(_result(230), 720) == pytest.approx(230 / 720, abs=1e-3)
    assert vanishing_share(_result(50, 460), 460) == pytest.approx(50 / 460, abs=1e-3)
    # far ends that bend (a curve) do not move it: the nearer 60 % is fitted
    assert vanishing_share(_result(230, bend=40), 720) == pytest.approx(230 / 720, abs=1e-3)


def test_no_estimate_without_both_ego_lines_or_when_they_do_not_converge():
    only_left = LaneResult(0, lanes=[_line("L1", 300, 640, 230)])
    assert vanishing_share(only_left, 720) is None
    parallel = LaneResult(0, lanes=[_line("L1", 300, 300, 230), _line("R1", 1000, 1000, 230)])
    assert vanishing_share(parallel, 720) is None
    crossed = LaneResult(0, lanes=[_line("L1", 300, 640, 230), _line("R1", 1000, 640, 230)])
    crossed.lanes[0].slot, crossed.lanes[1].slot = "R1", "L1"     # diverging upwards
    assert vanishing_share(crossed, 720) is None
    short = LaneResult(0, lanes=[_line("L1", 300, 640, 230, top=716),
                                 _line("R1", 1000, 640, 230)])
    assert vanishing_share(short, 720) is None


def _feed(auto, shares, start=0, crop=None):
    """Observe ``shares`` as postprocessed frames ``start``, ``start + 1`` ...; the changes."""
    changes = []
    for i, share in enumerate(shares, start):
        new = auto.observe(share, i, auto.crop_for(i) if crop is None else crop)
        if new is not None:
            changes.append((i, new))
    return changes


def test_the_crop_moves_up_after_enough_agreeing_frames_lag_frames_later():
    auto = AutoCrop(0.3)
    assert _feed(auto, [0.10] * 9 + [None]) == []      # a frame without an estimate: nothing
    assert auto.latest == 0.3
    assert _feed(auto, [0.10], start=10) == [(10, pytest.approx(0.10 - MARGIN))]
    assert auto.latest == pytest.approx(0.085) and auto.changes == 1
    # frames preprocessed up to LAG after the deciding one keep the old crop: they may have
    # been preprocessed already, and where the switch lands must not depend on thread timing
    assert auto.crop_for(10 + AutoCrop.LAG - 1) == 0.3
    assert auto.crop_for(10 + AutoCrop.LAG) == pytest.approx(0.085)


def test_estimates_from_frames_at_the_old_crop_do_not_count():
    auto = AutoCrop(0.3)
    assert _feed(auto, [0.10] * 10) == [(9, pytest.approx(0.085))]
    first = 9 + AutoCrop.LAG
    # the frames between the decision and the switch, at 0.30, would pull the median back
    assert _feed(auto, [0.35] * (first - 10), start=10) == []
    assert auto.latest == pytest.approx(0.085)
    # from the switch on the estimates count again, starting from none
    assert _feed(auto, [0.25] * 9, start=first) == []
    assert _feed(auto, [0.25], start=first + 9) == [(first + 9, pytest.approx(0.235))]


def test_a_camera_like_the_models_keeps_its_crop():
    auto = AutoCrop(0.3)
    assert _feed(auto, [float(v) for v in np.linspace(0.28, 0.35, 30)]) == []
    assert auto.latest == 0.3 and auto.changes == 0      # TuSimple's lines meet near 0.315


def test_the_crop_never_moves_below_the_models_own():
    # lines meeting low in the frame: the road is all there, and a closer crop magnifies it
    auto = AutoCrop(0.3)
    assert _feed(auto, [0.6] * 30) == []
    assert auto.latest == 0.3


def test_estimates_that_disagree_change_nothing():
    auto = AutoCrop(0.3)
    rng = np.random.default_rng(0)
    assert _feed(auto, [float(v) for v in rng.uniform(-0.2, 0.5, 30)]) == []  # IQR >> 0.08
    assert auto.latest == 0.3
