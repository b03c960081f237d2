"""Lane results and their extraction from model outputs."""

from lanecam.pipeline.lanes.extract import LaneExtractor, ego_polygon, tusimple_xs
from lanecam.pipeline.lanes.fit import robust_polyfit
from lanecam.pipeline.lanes.result import Lane, LaneResult

__all__ = ["Lane", "LaneResult", "LaneExtractor", "ego_polygon", "robust_polyfit", "tusimple_xs"]
