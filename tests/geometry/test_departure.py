"""DepartureWarning: thresholds, rate-based early warning, hysteresis."""

import pytest

from lanecam.pipeline.geometry import DepartureWarning


@pytest.mark.parametrize("offset, rate, expected", [
    (0.0, 0.0, "none"),
    (0.8, 0.0, "right"),
    (-0.8, 0.0, "left"),
    (0.5, 0.0, "none"),          # inside early, not moving out
    (0.5, 0.8, "right"),         # early: moving out fast
    (-0.5, -0.8, "left"),
    (0.5, -0.8, "none"),         # moving back in
    (None, 0.0, "none"),
])
def test_from_none(offset, rate, expected):
    assert DepartureWarning().update(offset, rate) == expected


def test_hysteresis_keeps_warning_between_thresholds():
    d = DepartureWarning(on_m=0.75, off_m=0.55)
    seq = [0.7, 0.76, 0.7, 0.6, 0.56, 0.54, 0.7, 0.76]
    got = [d.update(o, 0.0) for o in seq]
    assert got == ["none", "right", "right", "right", "right", "none", "none", "right"]


def test_warning_held_while_still_moving_out():
    d = DepartureWarning()
    d.update(-0.8, 0.0)
    assert d.update(-0.5, -0.4) == "left"   # inside off_m but still drifting out
    assert d.update(-0.5, 0.0) == "none"


def test_unknown_offset_clears():
    d = DepartureWarning()
    d.update(0.9, 0.0)
    assert d.update(None) == "none"


def test_bad_thresholds_refused():
    with pytest.raises(ValueError):
        DepartureWarning(on_m=0.5, off_m=0.6)
