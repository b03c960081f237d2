"""Evaluation: the TuSimple lane metric, per-slot IoU and the ``lanecam evaluate`` command."""

from lanecam.tools.evaluate.iou import SlotIoU, slot_iou
from lanecam.tools.evaluate.tusimple import (FrameScore, TuSimpleFormatError, TuSimpleScore,
                                     line_accuracy, load_jsonl, score_files, score_frame,
                                     score_frames)

__all__ = ["FrameScore", "TuSimpleFormatError", "TuSimpleScore", "line_accuracy", "load_jsonl",
           "score_files", "score_frame", "score_frames", "SlotIoU", "slot_iou"]
