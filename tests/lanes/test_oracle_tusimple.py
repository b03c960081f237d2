"""Real TuSimple labels -> an ideal model output -> LaneExtractor -> the TuSimple metric.

Checks the whole coordinate path (crop, half-resolution output, fit, row sampling) on real lane
shapes: an output drawn from the ground truth itself must score close to 1. What it loses is
the rows above the model's crop and the ends of the observed extent.
"""

import cv2
import numpy as np
import pytest

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.lanes import LaneExtractor, tusimple_xs
from lanecam.tools.evaluate.tusimple import load_jsonl, score_frames


def ideal_output(labels_row, spec, out_h, out_w, width=1280, height=720):
    """lane_prob (1, out_h, out_w, 5) with the GT lanes drawn ~1.5 px wide in their slots."""
    ys = np.array(labels_row["h_samples"], float)
    lanes = [np.array(l, float) for l in labels_row["lanes"] if np.count_nonzero(np.array(l) >= 0) >= 2]
    # slots by the x where each lane (a straight fit) meets the bottom rows, around the centre
    bottom = [np.polyval(np.polyfit(ys[l >= 0], l[l >= 0], 1), ys[-1]) for l in lanes]
    order = [lanes[i] for i in np.argsort(bottom)]
    first_right = int(np.searchsorted(np.sort(bottom), width / 2))
    top, bot = spec.crop_rows(height)
    prob = np.zeros((1, out_h, out_w, 5), np.float32)
    up = 8  # draw at 8x and area-downsample: anti-aliased, sub-pixel accurate
    for k, offset in enumerate((-2, -1, 0, 1)):
        i = first_right + offset
        if not 0 <= i < len(order):
            continue
        lane = order[i]
        ok = lane >= 0
        mx = (lane[ok] + 0.5) * out_w / width - 0.5
        my = (ys[ok] - top + 0.5) * out_h / (bot - top) - 0.5
        pts = np.rint(np.stack([mx, my], 1) * up + (up - 1) / 2).astype(np.int32)
        canvas = np.zeros((out_h * up, out_w * up), np.uint8)
        cv2.polylines(canvas, [pts.reshape(-1, 1, 2)], False, 255, int(1.5 * up), cv2.LINE_AA)
        prob[0, :, :, 1 + k] = 0.95 * cv2.resize(canvas, (out_w, out_h),
                                                 interpolation=cv2.INTER_AREA) / 255.0
    prob[0, :, :, 0] = 1 - prob[0, :, :, 1:].sum(axis=2)
    return prob


@pytest.mark.parametrize("crop_top,minimum", [(0.35, 0.96), (0.25, 0.98)])
def test_ideal_output_scores_near_one(shared_data, crop_top, minimum):
    labels = load_jsonl(shared_data / "tusimple" / "labels.json")
    spec = ModelSpec(crop_top=crop_top)
    ext = LaneExtractor(spec, 1280, 720)
    preds = []
    for i, row in enumerate(labels):
        res = ext({"lane_prob": ideal_output(row, spec, 64, 160),
                   "lane_exist": np.full((1, 4), 0.9, np.float32)}, i)
        lanes = [tusimple_xs(lane, row["h_samples"], 1280) for lane in res.lanes]
        preds.append({"raw_file": row["raw_file"], "lanes": lanes, "run_time": 1.0})
    score = score_frames(preds, labels)
    assert score.accuracy >= minimum
    assert score.fp == 0.0 and score.fn == 0.0
