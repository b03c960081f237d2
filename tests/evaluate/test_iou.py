"""Per-slot IoU of label masks."""

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.tools.evaluate.iou import SlotIoU, slot_iou


def test_slot_iou_values():
    gt = np.zeros((4, 6), np.uint8)
    pred = np.zeros((4, 6), np.uint8)
    gt[:, 0] = 1           # slot 0: 4 px
    pred[:2, 0] = 1        # 2 of them predicted -> 2/4
    gt[:, 3] = 2
    pred[:, 3:5] = 2       # slot 1: 4 / 8
    iou = slot_iou(pred, gt, 3)
    assert iou[0] == pytest.approx(0.5) and iou[1] == pytest.approx(0.5)
    assert np.isnan(iou[2])  # slot 2 in neither


def test_accumulator_pools_frames_and_reports_mean():
    acc = SlotIoU(["L1", "R1"])
    a = np.array([[1, 0], [0, 0]])
    acc.add(a, a)                              # L1: 1/1
    acc.add(np.array([[1, 1], [0, 0]]), a)     # L1: 1/2 -> pooled 2/3
    res = acc.result()
    assert res["L1"] == pytest.approx(2 / 3)
    assert np.isnan(res["R1"]) and res["mean"] == pytest.approx(2 / 3)


def test_shape_mismatch_is_input_error():
    with pytest.raises(InputError, match="shape"):
        slot_iou(np.zeros((2, 2)), np.zeros((2, 3)), 2)
