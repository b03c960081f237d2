"""Ego-lane geometry from the two ego lines in road metres: fits, curvature, offset, width, gates.

Road frame: X metres to the right, Y metres forward, the vehicle at the origin. A line is
X = a*Y**2 + b*Y + c; the lane centre line is the mean of the two line fits.
"""

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = ["Gates", "Measurement", "fit_line", "fit_ego", "curvature_at", "radius_m",
           "offset_m", "RADIUS_CAP_M"]

# Radii beyond this are reported as +/- the cap: a straight road, kept finite for JSON.
RADIUS_CAP_M = 100000.0


@dataclass
class Gates:
    """Plausibility limits; a fit outside them is rejected (``Measurement.reason`` says which).

    Attributes:
        min_width_m, max_width_m: allowed lane width at the vehicle.
        max_width_spread_m: parallelism: the width may vary at most this much over the range
            both lines are trusted to (see ``min_parallel_range_m``).
        min_parallel_range_m: when the lines are not parallel over the whole range both cover,
            they are refitted on their nearer points, range by range, as long as the range
            stays at least this long (metres ahead of the vehicle). A model places far lines
            less well than near ones (a few pixels there are a metre across, and a car or a
            dash gap ahead drags the far end of a line), so a far end that bends away should
            shorten the range, not blank the frame; two lines that are not parallel even this
            close are rejected.
        min_points: points per line needed for a fit.
        min_span_m: a line must cover at least this many metres along the road.
        max_curvature: |1/R| above this (1/m) is not a road at speed (default R < 40 m).
    """

    min_width_m: float = 2.5
    max_width_m: float = 5.0
    max_width_spread_m: float = 0.7
    min_parallel_range_m: float = 20.0
    min_points: int = 5
    min_span_m: float = 5.0
    max_curvature: float = 1.0 / 40.0


@dataclass
class Measurement:
    """One frame's raw (unsmoothed) ego-lane estimate.

    Attributes:
        valid: True when the fit passed every gate.
        reason: why it is invalid ("" when valid).
        coeffs: centre line (a, b, c) in metres, or None.
        width_m: lane width at the vehicle (perpendicular to the lane), or NaN.
        lines: which lines were measured: "both", "left" or "right" (the other one placed at
            the prior width), or "" when none.
        range_m: how far ahead (metres from the vehicle) the fitted lines reach, or NaN.
    """

    valid: bool
    reason: str = ""
    coeffs: Optional[np.ndarray] = None
    width_m: float = math.nan
    lines: str = ""
    range_m: float = math.nan


def fit_line(xy_m: np.ndarray, gates: Gates):
    """Second-order fit X(Y) of one line's road points (N, 2); (coeffs, y_min, y_max) or reason."""
    if xy_m is None or len(xy_m) < gates.min_points:
        return "too few points"
    y = xy_m[:, 1]
    y0, y1 = float(y.min()), float(y.max())
    if y1 - y0 < gates.min_span_m:
        return f"covers {y1 - y0:.1f} m < {gates.min_span_m} m"
    # Centre Y for conditioning, then shift the polynomial back to the road origin.
    ym = 0.5 * (y0 + y1)
    # Each point stands for the stretch of road around it: image rows are dense near the car
    # and metres apart far ahead, so unweighted, the first few metres would decide the curve.
    order = np.argsort(y)
    stretch = np.empty_like(y)
    stretch[order] = np.gradient(y[order]) if len(y) > 1 else 1.0
    w = np.sqrt(np.maximum(stretch, 1e-3))   # polyfit weights multiply the residuals
    a, b, c = np.polyfit(y - ym, xy_m[:, 0], 2, w=w)
    coeffs = np.array([a, b - 2 * a * ym, a * ym * ym - b * ym + c])
    return coeffs, y0, y1


def curvature_at(coeffs, y: float = 0.0) -> float:
    """Signed curvature (1/m, + = bends right) of X = aY^2+bY+c at ``y``."""
    a, b, _ = coeffs
    slope = 2 * a * y + b
    return float(2 * a / (1 + slope * slope) ** 1.5)


def radius_m(curvature: float) -> float:
    """Signed radius from a curvature, capped at +/- ``RADIUS_CAP_M``."""
    if abs(curvature) * RADIUS_CAP_M <= 1.0:
        return math.copysign(RADIUS_CAP_M, curvature) if curvature else RADIUS_CAP_M
    return 1.0 / curvature


def offset_m(coeffs) -> float:
    """Vehicle minus lane centre at the vehicle, across the lane (+ = vehicle right of centre)."""
    _, b, c = coeffs
    return float(-c / math.sqrt(1 + b * b))


def fit_ego(left_m: Optional[np.ndarray], right_m: Optional[np.ndarray],
            gates: Gates = Gates(), prior_width_m: Optional[float] = None) -> Measurement:
    """Fit both ego lines and combine them into a centre line, applying ``gates``.

    With only one usable line and a ``prior_width_m`` (the smoothed width), the other line is
    placed parallel at that width, so a worn or hidden line does not blank the estimate. When
    the two lines are not parallel as far as both reach, they are refitted on their nearer
    points (``Gates.min_parallel_range_m``) and ``Measurement.range_m`` says how far they
    were used.
    """
    fl, fr = fit_line(left_m, gates), fit_line(right_m, gates)
    ok_l, ok_r = not isinstance(fl, str), not isinstance(fr, str)
    if not (ok_l and ok_r):
        if prior_width_m and (ok_l or ok_r):
            coeffs, _, far = fl if ok_l else fr
            half = 0.5 * prior_width_m * math.sqrt(1 + coeffs[1] ** 2)
            centre = coeffs + np.array([0.0, 0.0, half if ok_l else -half])
            return _curvature_gate(Measurement(True, "", centre, float(prior_width_m),
                                               "left" if ok_l else "right", float(far)), gates)
        why = [f"{side}: {f}" for side, f in (("left", fl), ("right", fr)) if isinstance(f, str)]
        return Measurement(False, "; ".join(why))
    far = min(fl[2], fr[2])
    while True:
        (cl, _, l1), (cr, _, r1) = fl, fr
        centre = 0.5 * (cl + cr)
        width = float((cr[2] - cl[2]) / math.sqrt(1 + centre[1] ** 2))
        m = Measurement(True, "", centre, width, "both", float(min(l1, r1)))
        if not gates.min_width_m <= width <= gates.max_width_m:
            m.valid, m.reason = False, (f"width {width:.2f} m outside "
                                        f"[{gates.min_width_m}, {gates.max_width_m}]")
            return m
        spread = _width_spread(cl, cr, m.range_m)
        if spread <= gates.max_width_spread_m:
            return _curvature_gate(m, gates)
        # not parallel that far: try the nearer 80 % of the range, never under the minimum
        far = 0.8 * far
        if far < gates.min_parallel_range_m:
            break
        fl, fr = fit_line(_nearer(left_m, far), gates), fit_line(_nearer(right_m, far), gates)
        if isinstance(fl, str) or isinstance(fr, str):
            break
    m.valid, m.reason = False, (f"lines not parallel (width varies {spread:.2f} m "
                                f"> {gates.max_width_spread_m} within {m.range_m:.0f} m)")
    return m


def _width_spread(cl, cr, far: float) -> float:
    """How much the distance between two line fits varies from the vehicle to ``far``."""
    ys = np.linspace(0.0, max(far, 1.0), 6)
    widths = np.polyval(cr, ys) - np.polyval(cl, ys)
    return float(widths.max() - widths.min())


def _nearer(xy_m: np.ndarray, far: float) -> np.ndarray:
    """The road points (N, 2) at most ``far`` metres ahead."""
    return xy_m[xy_m[:, 1] <= far]


def _curvature_gate(m: Measurement, gates: Gates) -> Measurement:
    k = curvature_at(m.coeffs)
    if abs(k) > gates.max_curvature:
        m.valid, m.reason = False, f"radius {1 / k:.0f} m tighter than {1 / gates.max_curvature:.0f} m"
    return m
