"""Lane results and their extraction from model outputs."""

from pipeline.lanes.result import Lane, LaneResult

__all__ = ["Lane", "LaneResult"]
