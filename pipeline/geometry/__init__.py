"""Lane geometry in metres: bird's-eye fits, curvature, offset, width, smoothing, departure."""

from lanecam.pipeline.geometry.departure import DEPARTURE_STATES, DepartureWarning
from lanecam.pipeline.geometry.estimator import GEOMETRY_KEYS, GeometryEstimator
from lanecam.pipeline.geometry.fit import (RADIUS_CAP_M, Gates, Measurement, curvature_at, fit_ego,
                                   fit_line, offset_m, radius_m)
from lanecam.pipeline.geometry.smoothing import LaneSmoother

__all__ = [
    "DEPARTURE_STATES", "DepartureWarning", "GEOMETRY_KEYS", "Gates", "GeometryEstimator",
    "LaneSmoother", "Measurement", "RADIUS_CAP_M", "curvature_at", "fit_ego", "fit_line",
    "offset_m", "radius_m",
]
