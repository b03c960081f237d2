"""The pipeline's runtime core: frame pool, rings with overflow policies, stages and the runner."""

from pipeline.core.frames import FrameMeta, FramePool
from pipeline.core.ring import CLOSED, END, TIMEOUT, Policy, Ring
from pipeline.core.build import build_lane_pipeline
from pipeline.core.lanestages import InferStage, PostprocessStage, PreprocessStage, SinkStage
from pipeline.core.runner import Runner, chain
from pipeline.core.stage import Control, SourceStage, Stage

__all__ = ["FrameMeta", "FramePool", "Ring", "Policy", "END", "CLOSED", "TIMEOUT",
           "Stage", "SourceStage", "Control", "Runner", "chain",
           "PreprocessStage", "InferStage", "PostprocessStage", "SinkStage", "build_lane_pipeline"]
