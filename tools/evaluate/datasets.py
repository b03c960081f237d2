"""Scoring a model on the real TuSimple frames and on synthetic renderer frames."""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from lanecam.pipeline.constants import DEFAULT_H_SAMPLES
from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.lanes import LaneResult
from lanecam.pipeline.metrics import latency_summary
from lanecam.tools.evaluate.iou import SlotIoU
from lanecam.tools.evaluate.predict import Predictor, read_image, tusimple_lanes
from lanecam.tools.evaluate.label_rows import label_row
from lanecam.tools.evaluate.tusimple import (TuSimpleScore, image_path, read_jsonl,
                                             score_frames)

__all__ = ["FrameRecord", "DatasetResult", "load_tusimple", "evaluate_tusimple",
           "evaluate_synthetic", "combine_tusimple", "CULaneResult", "evaluate_culane",
           "SYNTHETIC_SEED", "SYNTHETIC_SIZE"]

# the synthetic validation frames: random_frame(SYNTHETIC_SEED + i) at 1280x720, so that the
# metric's 20 px tolerance means the same as on TuSimple
SYNTHETIC_SEED = 900_000
SYNTHETIC_SIZE = (1280, 720)


@dataclass
class FrameRecord:
    """One evaluated frame, kept for the report and the contact sheet."""

    name: str
    result: LaneResult
    run_time_ms: float
    gt_lanes: List[List[int]]
    h_samples: List[int]
    path: Optional[Path] = None          # real frames: re-read for the contact sheet
    kind: str = ""                       # synthetic frames: the scene kind ("road+night"...)


@dataclass
class DatasetResult:
    """A dataset's TuSimple score, per-slot IoU (synthetic only) and its frames."""

    name: str
    score: TuSimpleScore
    frames: List[FrameRecord]
    iou: Optional[Dict[str, float]] = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        times = np.array([f.run_time_ms for f in self.frames])
        d = {"name": self.name, **self.score.to_dict(),
             "run_time_ms": latency_summary(times / 1e3)}
        if self.iou is not None:  # NaN (slot never seen) is not JSON: null
            d["slot_iou"] = {k: (v if v == v else None) for k, v in self.iou.items()}
        d.update({k: v for k, v in self.extra.items() if not k.startswith("_")})
        return d


def load_tusimple(folder, select=None) -> List[dict]:
    """Label rows of a TuSimple folder (``labels.json`` + the images it names), checked;
    with ``select`` (a row -> bool), only the rows it accepts (a split of the folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: TuSimple folder not found")
    labels = folder / "labels.json"
    if not labels.is_file():
        raise InputError(f"{folder}: expected labels.json (TuSimple label lines) in this folder")
    # every row checked as it is read (numbers, finite, one x per row): one line, not a
    # traceback from the metric or garbage scored
    rows = read_jsonl(labels, "TuSimple label file", label_row)
    if select is not None:
        rows = [(i, row) for i, row in rows if select(row)]
    if not rows:
        raise InputError(f"{labels}: no labelled frames"
                         + (" in the selected split" if select is not None else ""))
    for i, row in rows:
        if not image_path(folder, row["raw_file"], f"{labels}: line {i}").is_file():
            raise InputError(f"{labels}: line {i}: image {row['raw_file']!r} not found in {folder}")
    return [row for _, row in rows]


def evaluate_tusimple(predictor: Predictor, folder, timed: bool = True,
                      name: str = "tusimple", select=None) -> DatasetResult:
    """Predict every labelled frame of a TuSimple folder and score it (reported as ``name``).

    ``timed=False`` reports a run time of 0 to the metric, so that its 200 ms rule does not
    zero frames of a model run somewhere its speed means nothing (Keras while it trains).
    ``select``: score only the rows it accepts (``load_tusimple``)."""
    folder = Path(folder)
    rows = load_tusimple(folder, select)
    preds, records = [], []
    for i, row in enumerate(rows):
        path = folder / row["raw_file"]
        img = read_image(path)
        result, ms = predictor(img, i)
        lanes = tusimple_lanes(result, row["h_samples"], img.shape[1])
        preds.append({"raw_file": row["raw_file"], "lanes": lanes,
                      "run_time": ms if timed else 0.0})
        records.append(FrameRecord(row["raw_file"], result, ms, row["lanes"],
                                   list(row["h_samples"]), path))
    res = DatasetResult(name, score_frames(preds, rows), records, extra={"folder": str(folder)})
    res.extra["_rows"] = (preds, rows)   # for combine_tusimple; not written to the report
    return res


def combine_tusimple(results: List[DatasetResult], name: str = "tusimple_all") -> DatasetResult:
    """One TuSimple score over the frames of several folders together.

    The metric is a mean over frames (each frame's accuracy, FP and FN), so this is the
    folders' scores weighted by their frame counts, not their plain mean. Frame names are
    prefixed with their folder's result name (``tusimple-test/images/0001.png``), in the
    score's ``frames`` and in the records alike; the folders' own results are not changed."""
    preds, rows, records, folders = [], [], [], []
    for r in results:
        p, g = r.extra["_rows"]
        # raw_file names repeat between folders (images/0001.png): make them unique
        preds += [{**x, "raw_file": f"{r.name}/{x['raw_file']}"} for x in p]
        rows += [{**x, "raw_file": f"{r.name}/{x['raw_file']}"} for x in g]
        records += [replace(rec, name=f"{r.name}/{rec.name}") for rec in r.frames]
        folders.append(r.extra["folder"])
    return DatasetResult(name, score_frames(preds, rows), records, extra={"folders": folders})


def evaluate_synthetic(predictor: Predictor, count: int, seed: int = SYNTHETIC_SEED,
                       h_samples=DEFAULT_H_SAMPLES, timed: bool = True,
                       mix: str = "v2") -> DatasetResult:
    """Score ``count`` independent renderer frames (seeds ``seed .. seed + count - 1``) with the
    TuSimple metric and, for lane_slots models, the per-slot IoU of the argmax mask.
    ``timed``: as for ``evaluate_tusimple``. ``mix``: the scene distribution, "v2" (barriers,
    traffic, night, no-road frames...), "v1" (the first renderer's, for comparing with
    numbers measured before v2) or "v3" (v2 with lanes of unequal widths)."""
    try:
        from lanecam.pipeline.roadsim import SLOTS, random_frame
        from lanecam.pipeline.roadsim.mix import mix_named
    except ImportError as exc:
        raise LanecamError(f"--synthetic needs the road renderer (pipeline.roadsim): {exc}") from None
    scene_mix = mix_named(mix, "--synthetic-mix")
    spec = predictor.spec
    slots = spec.slot_names if spec.output_kind == "lane_slots" else ()
    iou = SlotIoU(slots) if slots else None
    # renderer slot index -> this model's label value (0 when the model has no such slot)
    gt_to_model = np.array([0] + [slots.index(s) + 1 if s in slots else 0 for s in SLOTS],
                           np.uint8)
    w, h = SYNTHETIC_SIZE
    rows = [r for r in h_samples if r < h]
    preds, gts, records = [], [], []
    for i in range(count):
        frame, gt = random_frame(seed + i, width=w, height=h, mix=scene_mix)
        result, ms = predictor(frame, i)
        name = f"synthetic/{seed + i}"
        gt_lanes = gt.tusimple_lanes(rows)
        preds.append({"raw_file": name, "lanes": tusimple_lanes(result, rows, w),
                      "run_time": ms if timed else 0.0})
        gts.append({"raw_file": name, "lanes": gt_lanes, "h_samples": rows})
        records.append(FrameRecord(name, result, ms, gt_lanes, rows,
                                   kind=getattr(gt, "kind", "")))
        if iou is not None:
            pred_mask = _argmax_mask(predictor.last_outputs[spec.seg_output], spec.output_layout)
            gt_mask = gt.slot_mask(pred_mask.shape[0], pred_mask.shape[1],
                                   crop_top=getattr(predictor, "last_crop_top", spec.crop_top),
                                   crop_bottom=spec.crop_bottom)
            iou.add(pred_mask, gt_to_model[gt_mask])
    return DatasetResult("synthetic", score_frames(preds, gts), records,
                         iou=iou.result() if iou is not None else None,
                         extra={"seed": seed, "size": [w, h], "mix": mix})


@dataclass
class CULaneResult:
    """A CULane-format folder's score and its frames."""

    name: str
    score: "CULaneScore"   # tools.evaluate.culane, imported lazily with the metric
    frames: List[FrameRecord]
    folder: str

    def to_dict(self) -> dict:
        times = np.array([f.run_time_ms for f in self.frames])
        return {"name": self.name, "folder": self.folder, **self.score.to_dict(),
                "run_time_ms": latency_summary(times / 1e3)}


def evaluate_culane(predictor: Predictor, folder, name: str = "culane") -> CULaneResult:
    """Predict every frame of a CULane-format folder and score it with the CULane rule
    (``lanecam.tools.evaluate.culane``)."""
    from lanecam.tools.evaluate.culane import CULaneScore, list_culane, read_lines_txt, score_frame

    score, records = CULaneScore(), []
    folder = Path(folder)
    for i, (img_path, labels) in enumerate(list_culane(folder)):
        img = read_image(img_path)
        gt = read_lines_txt(labels)
        result, ms = predictor(img, i)
        # every lane counts, as it would in a prediction file (< 2 points: a false one)
        pred = [np.asarray(lane.points, np.float64).reshape(-1, 2) for lane in result.lanes]
        slots = [lane.slot for lane in result.lanes]
        rel = str(img_path.relative_to(folder))
        score.add(rel, score_frame(pred, gt, (img.shape[1], img.shape[0]), slots,
                                   where=str(labels)))
        records.append(FrameRecord(rel, result, ms, [], [], img_path))
    return CULaneResult(name, score, records, str(folder))


def _argmax_mask(seg: np.ndarray, layout: str) -> np.ndarray:
    """(H, W) uint8 class map from a batch-1 per-pixel output."""
    seg = seg[0] if seg.ndim == 4 else seg
    axis = 2 if layout == "NHWC" else 0
    return seg.argmax(axis=axis).astype(np.uint8)
