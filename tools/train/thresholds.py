"""Choosing a model's lane-extraction thresholds on validation frames.

The per-pixel threshold and the existence threshold trade missed lanes against false ones,
and where the balance lies depends on the model (how confident its softmax and existence
outputs are). They are chosen once, after training, on renderer frames the model was not
trained on and, when the run held some out, on the real validation frames of the TuSimple
training set (``split.py``), and stored in its ModelSpec, so that every tool uses the same
values. The test frames (``tusimple/``, ``tusimple-test/``) are never used for this.
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


def _outputs(engine, spec: ModelSpec, frames) -> list:
    """The model's outputs per (frame, label row), with the frame size for extraction."""
    from lanecam.pipeline.preprocess import Preprocessor

    pres, out = {}, []
    for frame, row in frames:
        h, w = frame.shape[:2]
        pre = pres.setdefault((w, h), Preprocessor(spec, w, h))
        res = engine.infer(pre(frame))
        out.append(({k: np.array(v) for k, v in res.items()}, row, (w, h)))
    return out


def _score(spec: ModelSpec, outputs, lt: float, et: float):
    from lanecam.pipeline.lanes import LaneExtractor, tusimple_xs
    from lanecam.tools.evaluate.tusimple import score_frames

    extractors, preds = {}, []
    for out, row, (w, h) in outputs:
        ext = extractors.get((w, h))
        if ext is None:
            ext = extractors[(w, h)] = LaneExtractor(spec, w, h, threshold=lt,
                                                     exist_threshold=et)
        lanes = [tusimple_xs(lane, row["h_samples"], w) for lane in ext(out, 0).lanes]
        preds.append({"raw_file": row["raw_file"], "lanes": lanes, "run_time": 0})
    return score_frames(preds, [row for _, row, _ in outputs])


def choose_thresholds(engine, spec: ModelSpec, seeds: Sequence[int],
                      size: Tuple[int, int] = (1280, 720),
                      lane_grid=LANE_GRID, exist_grid=EXIST_GRID, log=print,
                      real_frames=()) -> ModelSpec:
    """The spec with ``lane_threshold`` and ``exist_threshold`` that score best (accuracy
    - 0.5 FP, TuSimple metric) on the renderer frames of ``seeds`` at ``size`` and, when
    given, the real validation frames ``real_frames`` ((BGR frame, TuSimple label row) pairs):
    then the objective is the mean of the two sets' objectives, so that neither the renderer
    nor one real drive decides alone.

    ``engine``: an opened ``Engine`` for the model. The model runs once per frame; every
    threshold pair is then applied to the same outputs.
    """
    from lanecam.pipeline.roadsim import random_frame

    w, h = size
    rows = list(range(160, h, 10))
    synthetic = []
    for s in seeds:
        frame, gt = random_frame(int(s), w, h)
        synthetic.append((frame, {"raw_file": str(s), "lanes": gt.tusimple_lanes(rows),
                                  "h_samples": rows}))
    sets = {"synthetic": _outputs(engine, spec, synthetic)}
    if real_frames:
        sets["real"] = _outputs(engine, spec, real_frames)
    best = None
    for lt in lane_grid:
        for et in exist_grid:
            scores = {name: _score(spec, outs, lt, et) for name, outs in sets.items()}
            objective = float(np.mean([_objective(s) for s in scores.values()]))
            log(f"thresholds: lane {lt:.2f} exist {et:.2f}: " + "; ".join(
                f"{name} accuracy {s.accuracy:.4f} FP {s.fp:.4f} FN {s.fn:.4f}"
                for name, s in scores.items()))
            if best is None or objective > best[0]:
                best = (objective, scores, lt, et)
    _, scores, lt, et = best
    log(f"thresholds: chose lane {lt:.2f}, exist {et:.2f} (" + "; ".join(
        f"{name} accuracy {s.accuracy:.4f}, FP {s.fp:.4f}, FN {s.fn:.4f} on "
        f"{len(sets[name])} frames" for name, s in scores.items()) + ")")
    return spec.replace(lane_threshold=lt, exist_threshold=et)
