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


class MixedEngine(TruthEngine):
    """Confident on the synthetic SEEDS, then unsure (existence 0.35) on "real" frames."""

    def __init__(self, real_seeds):
        super().__init__(0.95)
        for s in real_seeds:
            _, gt = random_frame(s, 1280, 720)
            mask = gt.slot_mask(64, 160, thickness=2, crop_top=SPEC.crop_top)
            self.outputs.append({"lane_prob": np.eye(5, dtype=np.float32)[mask][None],
                                 "lane_exist": np.full((1, 4), 0.35, np.float32)})


def test_real_validation_frames_take_part_in_the_choice():
    """With held-out real frames the choice must also keep their lanes: an existence
    threshold above their 0.35 would lose every real lane."""
    real_seeds = [21, 22, 23]
    rows = list(range(160, 720, 10))
    real = []
    for s in real_seeds:
        frame, gt = random_frame(s, 1280, 720)
        real.append((frame, {"raw_file": f"r{s}", "lanes": gt.tusimple_lanes(rows),
                             "h_samples": rows}))
    lines = []
    spec = choose_thresholds(MixedEngine(real_seeds), SPEC, SEEDS, log=lines.append,
                             real_frames=real)
    assert spec.exist_threshold <= 0.3
    assert "real accuracy" in lines[-1]
