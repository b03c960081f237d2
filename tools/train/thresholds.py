"""Choosing a model's lane-extraction thresholds on synthetic validation frames.

The per-pixel threshold and the existence threshold trade missed lanes against false ones,
and where the balance lies depends on the model (how confident its softmax and existence
outputs are). They are chosen once, after training, on renderer frames the model was not
trained on, and stored in its ModelSpec, so that every tool uses the same values. Real
evaluation frames are never used for this.
"""

from typing import Sequence, Tuple

import numpy as np

from lanecam.engines.modelspec import ModelSpec

__all__ = ["choose_thresholds", "LANE_GRID", "EXIST_GRID"]

LANE_GRID = (0.2, 0.3, 0.4, 0.5)
# up to 0.8: LaneFCN v3's best value under the old grid was its largest, 0.6 (a search cut short)
EXIST_GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _objective(score) -> float:
    # TuSimple ranks by accuracy; a false lane is worse for a driver than a short one
    return score.accuracy - 0.5 * score.fp


def choose_thresholds(engine, spec: ModelSpec, seeds: Sequence[int],
                      size: Tuple[int, int] = (1280, 720),
                      lane_grid=LANE_GRID, exist_grid=EXIST_GRID, log=print) -> ModelSpec:
    """The spec with ``lane_threshold`` and ``exist_threshold`` that score best (accuracy
    - 0.5 FP, TuSimple metric) on the renderer frames of ``seeds`` at ``size``.

    ``engine``: an opened ``Engine`` for the model. The model runs once per frame; every
    threshold pair is then applied to the same outputs.
    """
    from lanecam.pipeline.lanes import LaneExtractor, tusimple_xs
    from lanecam.pipeline.preprocess import Preprocessor
    from lanecam.pipeline.roadsim import random_frame
    from lanecam.tools.evaluate.tusimple import score_frames

    w, h = size
    rows = list(range(160, h, 10))
    pre = Preprocessor(spec, w, h)
    outputs, gts = [], []
    for s in seeds:
        frame, gt = random_frame(int(s), w, h)
        out = engine.infer(pre(frame))
        outputs.append({k: np.array(v) for k, v in out.items()})
        gts.append({"raw_file": str(s), "lanes": gt.tusimple_lanes(rows), "h_samples": rows})
    best = None
    for lt in lane_grid:
        for et in exist_grid:
            ext = LaneExtractor(spec, w, h, threshold=lt, exist_threshold=et)
            preds = []
            for s, out in zip(seeds, outputs):
                lanes = [tusimple_xs(lane, rows, w) for lane in ext(out, 0).lanes]
                preds.append({"raw_file": str(s), "lanes": lanes, "run_time": 0})
            score = score_frames(preds, gts)
            log(f"thresholds: lane {lt:.2f} exist {et:.2f}: accuracy {score.accuracy:.4f} "
                f"FP {score.fp:.4f} FN {score.fn:.4f}")
            if best is None or _objective(score) > _objective(best[0]):
                best = (score, lt, et)
    score, lt, et = best
    log(f"thresholds: chose lane {lt:.2f}, exist {et:.2f} (synthetic accuracy "
        f"{score.accuracy:.4f}, FP {score.fp:.4f}, FN {score.fn:.4f} on {len(seeds)} frames)")
    return spec.replace(lane_threshold=lt, exist_threshold=et)
