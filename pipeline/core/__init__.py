"""The pipeline's runtime core: frame pool, rings with overflow policies, stages and the runner."""

from lanecam.pipeline.core.frames import FrameMeta, FramePool
from lanecam.pipeline.core.ring import CLOSED, END, TIMEOUT, Policy, Ring
from lanecam.pipeline.core.build import build_lane_pipeline
from lanecam.pipeline.core.lanestages import InferStage, PostprocessStage, PreprocessStage, SinkStage
from lanecam.pipeline.core.runner import Runner, chain
from lanecam.pipeline.core.stage import Control, SourceStage, Stage

__all__ = ["FrameMeta", "FramePool", "Ring", "Policy", "END", "CLOSED", "TIMEOUT",
           "Stage", "SourceStage", "Control", "Runner", "chain",
           "PreprocessStage", "InferStage", "PostprocessStage", "SinkStage", "build_lane_pipeline"]
