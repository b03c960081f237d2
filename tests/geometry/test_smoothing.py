"""LaneSmoother: blending, outlier gating, reset after repeated rejections, gaps, lane changes."""

import numpy as np
import pytest

from lanecam.pipeline.geometry import LaneSmoother, Measurement


def meas(c=0.0, a=0.0, b=0.0, width=3.7, lines="both"):
    return Measurement(True, "", np.array([a, b, c]), width, lines)


def test_first_measurement_initialises_then_blends():
    s = LaneSmoother(alphas=(0.5, 0.5, 0.5, 0.5))
    assert s.update(meas(c=0.0), 0) == "init"
    assert s.update(meas(c=0.2), 1) == "update"
    assert s.coeffs[2] == pytest.approx(0.1)


def test_invalid_or_missing_measurement_holds_the_state():
    s = LaneSmoother()
    s.update(meas(c=0.3), 0)
    assert s.update(None, 1) == "hold"
    assert s.update(Measurement(False, "width"), 2) == "hold"
    assert s.coeffs[2] == pytest.approx(0.3)


def test_outlier_rejected_then_reset_after_a_run():
    s = LaneSmoother(reset_after=3)
    s.update(meas(c=0.0), 0)
    assert s.update(meas(c=1.2, width=3.0), 1) == "rejected"
    assert s.coeffs[2] == 0.0
    assert s.update(meas(c=1.2, width=3.0), 2) == "rejected"
    assert s.update(meas(c=1.2, width=3.0), 3) == "reset"
    assert s.coeffs[2] == pytest.approx(1.2)


def test_single_outlier_between_good_frames_is_forgotten():
    s = LaneSmoother(reset_after=3)
    s.update(meas(c=0.0), 0)
    s.update(meas(c=2.5, width=3.0), 1)
    assert s.update(meas(c=0.05), 2) == "update"
    assert s.rejected_run == 0


def test_far_disagreement_is_gated_too():
    s = LaneSmoother()
    s.update(meas(), 0)
    # Same position at the vehicle, 2 m off 20 m ahead: a wrong curvature.
    assert s.update(meas(a=2.0 / 400.0), 1) == "rejected"


def test_gap_drops_the_state():
    s = LaneSmoother(max_gap=5)
    s.update(meas(c=0.0), 0)
    assert s.update(None, 4) == "hold"
    assert s.update(None, 7) == "stale"
    assert s.coeffs is None
    assert s.update(meas(c=1.0), 8) == "init"


def test_lane_change_replaces_state_at_once():
    s = LaneSmoother()
    s.update(meas(c=-1.7, width=3.7), 0)   # vehicle near the left line of its lane
    assert s.update(meas(c=1.95, width=3.7), 1) == "lane_change"
    assert s.coeffs[2] == pytest.approx(1.95)


def test_bad_alphas_refused():
    with pytest.raises(ValueError):
        LaneSmoother(alphas=(0.1, 0.2, 1.5, 0.1))
