"""Lane results and their extraction from model outputs."""

from pipeline.lanes.extract import LaneExtractor, ego_polygon, tusimple_xs
from pipeline.lanes.fit import robust_polyfit
from pipeline.lanes.result import Lane, LaneResult

__all__ = ["Lane", "LaneResult", "LaneExtractor", "ego_polygon", "robust_polyfit", "tusimple_xs"]
