"""Per-slot intersection over union of lane-slot masks (0 = background, i + 1 = slot i)."""

from typing import Dict, Sequence

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["slot_iou", "SlotIoU"]


def _counts(pred: np.ndarray, gt: np.ndarray, num_slots: int):
    if pred.shape != gt.shape:
        raise InputError(f"slot masks: prediction shape {pred.shape} differs from ground truth "
                         f"{gt.shape}")
    # one bincount over joint labels gives the full confusion matrix without a loop over slots
    n = num_slots + 1
    joint = pred.astype(np.int64).ravel() * n + gt.astype(np.int64).ravel()
    conf = np.bincount(joint, minlength=n * n)[: n * n].reshape(n, n)
    inter = np.diag(conf)[1:]
    union = conf.sum(axis=1)[1:] + conf.sum(axis=0)[1:] - inter
    return inter, union


def slot_iou(pred: np.ndarray, gt: np.ndarray, num_slots: int) -> np.ndarray:
    """IoU per slot (float64, ``num_slots``); NaN where the slot is in neither mask."""
    inter, union = _counts(pred, gt, num_slots)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


class SlotIoU:
    """Accumulates intersections and unions over frames (dataset IoU, not a mean of frames).

    Args:
        slots: slot names in mask order (mask value i + 1 is ``slots[i]``).
    """

    def __init__(self, slots: Sequence[str]):
        self.slots = tuple(slots)
        self.inter = np.zeros(len(self.slots), np.int64)
        self.union = np.zeros(len(self.slots), np.int64)

    def add(self, pred: np.ndarray, gt: np.ndarray) -> None:
        """Add one frame's predicted and GT masks (same shape, integer labels)."""
        inter, union = _counts(pred, gt, len(self.slots))
        self.inter += inter
        self.union += union

    def result(self) -> Dict[str, float]:
        """Slot name -> IoU over everything added (NaN for a slot never seen), plus ``mean``."""
        out = {}
        for name, i, u in zip(self.slots, self.inter, self.union):
            out[name] = float(i) / float(u) if u > 0 else float("nan")
        vals = [v for v in out.values() if v == v]
        out["mean"] = float(np.mean(vals)) if vals else float("nan")
        return out
