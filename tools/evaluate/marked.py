"""Labelled frames with road markings painted on: does a model take an arrow for a line?

The real labelled frames are highways with nothing painted between the lines; town roads carry
arrows, crosswalks, stop lines, words, diamonds and hatched islands. Here each labelled frame
gets markings of each kind (``tools/train/markings.py``; three draws per frame and kind, fixed
seeds, so every model sees the same frames), its labels unchanged, and is scored by the
TuSimple rule beside the frames as recorded. A marking the model reads as a line shows as FP, a line it loses beside or under the
marking as FN.

The painter is also what ``lanecam train --markings`` trains with, so a model trained with it
has seen such paint (not these frames: the validation drive is never trained on); the measure
says whether the model is fooled, not how it would do on a real town road.
"""

from typing import Dict, List, Sequence

import numpy as np

__all__ = ["marked_views", "marking_scores"]

SEED = 7100
DRAWS = 3   # markings per frame and kind: one draw's place and size moves a kind's score by ~0.01


def marked_views(frames, kind: str, draws: int = DRAWS):
    """``geometry.score_views`` items: each (row, frame) ``draws`` times, each time with one
    ``kind`` marking painted on (named ``raw_file#n``); a frame whose ego lines give no marking
    after five tries is skipped."""
    from lanecam.tools.train.data import assign_slots
    from lanecam.tools.train.markings import MARKING_KINDS, paint_marking

    kind_index = MARKING_KINDS.index(kind)
    for k, (row, frame) in enumerate(frames):
        h, w = frame.shape[:2]
        lanes = dict(assign_slots(row["lanes"], row["h_samples"], w, h))
        if 1 not in lanes or 2 not in lanes:
            continue
        for draw in range(draws):
            for attempt in range(5):
                rng = np.random.default_rng([SEED, kind_index, k, draw, attempt])
                out = paint_marking(frame, lanes[1], lanes[2], rng, kind)
                if out is not frame:
                    ys = row["h_samples"]
                    yield f"{row['raw_file']}#{draw}", out, row["lanes"], ys, ys
                    break


def marking_scores(model, rows: Sequence[dict], root) -> Dict[str, List[float]]:
    """TuSimple [accuracy, FP, FN] of ``model`` on ``rows`` (label rows under ``root``) as
    recorded and with each kind of marking, plus the mean accuracy - 0.5 FP over the kinds."""
    from pathlib import Path

    from lanecam import LaneDetector
    from lanecam.tools.evaluate.geometry import score_views
    from lanecam.tools.evaluate.predict import read_image
    from lanecam.tools.train.markings import MARKING_KINDS

    root = Path(root)
    frames = [(row, read_image(root / row["raw_file"])) for row in rows]
    out, objective = {}, []
    with LaneDetector(model=model, threads=1) as det:
        out["as recorded"] = score_views(det, ((r["raw_file"], f, r["lanes"], r["h_samples"],
                                                r["h_samples"]) for r, f in frames))
        for kind in MARKING_KINDS:
            views = list(marked_views(frames, kind))
            if views:
                out[kind] = score_views(det, views)
                objective.append(out[kind][0] - 0.5 * out[kind][1])
    out["mean acc - 0.5 FP"] = [float(np.mean(objective)) if objective else float("nan")]
    return out
