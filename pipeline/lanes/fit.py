"""Robust polynomial fits x = f(y) of lane points (numpy only)."""

from typing import Optional

import numpy as np

__all__ = ["robust_polyfit"]

_MAD_TO_SIGMA = 1.4826  # scales the median absolute deviation to a normal sigma


def robust_polyfit(y: np.ndarray, x: np.ndarray, weights: np.ndarray, degree: int,
                   min_tolerance: float, min_points: int) -> Optional[np.ndarray]:
    """Weighted least-squares fit of x = f(y) with one outlier-rejection pass.

    The degree drops to 1 when there are too few points to constrain a curve
    (fewer than ``degree + 3``). After the first fit, points further than
    ``max(3 sigma, min_tolerance)`` from it (sigma from the median absolute residual,
    so that the outliers themselves do not inflate it) are removed and the fit is redone,
    provided ``min_points`` remain.

    Args:
        y, x: point coordinates (same length).
        weights: per-point weight (the probability mass of the row), >= 0.
        degree: the polynomial degree wanted.
        min_tolerance: residual (in units of x) that is never treated as an outlier.
        min_points: fewer points than this -> None.

    Returns:
        coefficients, highest power first (``np.polyval`` order), or None.
    """
    n = len(y)
    if n < max(min_points, 2):
        return None
    deg = degree if n >= degree + 3 else 1
    # polyfit's w multiplies residuals, so sqrt(weight) gives weighted least squares
    w = np.sqrt(np.maximum(weights, 1e-6))
    coeffs = np.polyfit(y, x, deg, w=w)
    resid = np.abs(x - np.polyval(coeffs, y))
    sigma = _MAD_TO_SIGMA * float(np.median(resid))
    keep = resid <= max(3.0 * sigma, min_tolerance)
    n_keep = int(np.count_nonzero(keep))
    if n_keep < n and n_keep >= max(min_points, 2):
        deg = degree if n_keep >= degree + 3 else 1
        coeffs = np.polyfit(y[keep], x[keep], deg, w=w[keep])
    if len(coeffs) < degree + 1:  # keep a fixed length: leading zeros for a lower-degree fit
        coeffs = np.concatenate([np.zeros(degree + 1 - len(coeffs)), coeffs])
    return coeffs
