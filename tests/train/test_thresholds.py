"""Threshold choice on synthetic frames, with an engine that answers from the ground truth."""

import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.roadsim import random_frame
from lanecam.tools.train.thresholds import choose_thresholds

SPEC = ModelSpec(crop_top=0.30)
SEEDS = [11, 12, 13]


class TruthEngine:
    """Returns, frame after frame, perfect lane maps for SEEDS with a fixed existence value."""

    def __init__(self, exist_value):
        self.outputs = []
        for s in SEEDS:
            _, gt = random_frame(s, 1280, 720)
            mask = gt.slot_mask(64, 160, thickness=2, crop_top=SPEC.crop_top)
            prob = np.eye(5, dtype=np.float32)[mask][None]          # one-hot (1, 64, 160, 5)
            self.outputs.append({"lane_prob": prob,
                                 "lane_exist": np.full((1, 4), exist_value, np.float32)})
        self.i = 0

    def infer(self, tensor):
        out = self.outputs[self.i]
        self.i += 1
        return out


def test_low_existence_outputs_get_a_low_existence_threshold():
    spec = choose_thresholds(TruthEngine(0.35), SPEC, SEEDS, log=lambda *a: None)
    # existence 0.35 everywhere: any threshold above it would drop every lane
    assert spec.exist_threshold <= 0.3
    assert spec.crop_top == SPEC.crop_top


def test_confident_outputs_keep_every_lane():
    lines = []
    spec = choose_thresholds(TruthEngine(0.95), SPEC, SEEDS, log=lines.append)
    assert spec.exist_threshold <= 0.6
    assert any(line.startswith("thresholds: chose") for line in lines)
    chosen = lines[-1]
    acc = float(chosen.split("synthetic accuracy ")[1].split(",")[0])
    assert acc > 0.9     # perfect maps: the extraction itself must score high
