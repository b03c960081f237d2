"""Does a model draw an outer line where there is no paint? Outer lines painted out of real frames.

  python benchmarks/erased_lines.py [MODEL ...] [--split val|train] [--save DIR]

On the real labelled frames of ``tusimple-train`` (by default its validation drive, the frames
models are chosen on; ``tools/train/split.py``), each outer line (L2, R2 by position, as
training assigns them) is painted out of its frame by inpainting the road around it
(OpenCV's Navier-Stokes method: not the Telea method ``lanecam train --erase-outer`` trains
with, so a model cannot pass by knowing the training's artefacts). What is left where the
line was is the road, its edge, a shoulder or a barrier without paint. For each model (default
the bundled one) it prints:

- ``erased``: the share of erased lines the model still reports at that place (a lane that
  matches the erased label by the TuSimple rule: 85 % of its rows within 20 px, widened for
  the lane's angle). Lower is better: these are false outer lines on bare road edges and
  barriers, the failure "a false L2 beside a median barrier".
- ``painted``: the share of the same lines found in the original frame. Higher is better; a
  model that stops reporting outer lines altogether would score low here.

TuSimple's frames nearly all show four lines (242 of the 245 training frames have both outer
ones), so real labels alone teach a line beside every lane. This is a diagnostic that reports;
it chooses nothing on its own (docs/model.md says how it was used). ``--save`` writes the
erased frames as PNGs to look at.
"""

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanecam.pipeline.data_paths import data_path  # noqa: E402

BUNDLED = ROOT / "engines" / "models" / "lanefcn" / "lanefcn.onnx"


def paint_out(frame, points):
    """``frame`` with the line through ``points`` ((N, 2) x, y at 1280x720) inpainted away:
    a band that widens towards the bottom as paint does under perspective, plus a margin for
    labels a few pixels off the paint."""
    import cv2

    h, w = frame.shape[:2]
    pts = points[np.argsort(points[:, 1])]
    top = pts[0, 1]
    mask = np.zeros((h, w), np.uint8)
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        width = (0.11 * (0.5 * (y0 + y1) - top) + 12) * (w / 1280.0)
        cv2.line(mask, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), 255,
                 max(2, int(round(width))))
    return cv2.inpaint(frame, mask, 9, cv2.INPAINT_NS)


def erased_frames(rows, folder):
    """(name, original frame, erased frame, the erased lane's x per h_sample, h_samples)."""
    import cv2

    from lanecam.tools.train.data import assign_slots

    for row in rows:
        frame = cv2.imread(str(folder / row["raw_file"]))
        h, w = frame.shape[:2]
        ys = np.asarray(row["h_samples"], np.float64)
        for slot, pts in assign_slots(row["lanes"], row["h_samples"], w, h):
            if slot not in (0, 3):
                continue
            xs = np.full(len(ys), -2.0)
            xs[np.searchsorted(ys, pts[:, 1])] = pts[:, 0]
            yield (f"{row['raw_file']}:{'L2' if slot == 0 else 'R2'}", frame,
                   paint_out(frame, pts), xs, ys)


def reported(det, frame, gt, ys) -> bool:
    """Whether one of the model's lanes matches the lane ``gt`` by the TuSimple rule."""
    from lanecam.pipeline.lanes.extract import tusimple_xs
    from lanecam.tools.evaluate.tusimple import (PIXEL_THRESHOLD, POINT_THRESHOLD,
                                                 lane_angle, line_accuracy)

    threshold = PIXEL_THRESHOLD / math.cos(lane_angle(gt, ys))
    result = det(frame, 0)
    preds = [np.asarray(tusimple_xs(lane, ys, frame.shape[1]), np.float64)
             for lane in result.lanes]
    return max((line_accuracy(p, gt, threshold) for p in preds), default=0.0) >= POINT_THRESHOLD


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", default=[str(BUNDLED)], metavar="MODEL")
    ap.add_argument("--split", choices=("val", "train"), default="val")
    ap.add_argument("--save", metavar="DIR", help="also write the erased frames here as PNG")
    args = ap.parse_args(argv)

    import cv2

    from lanecam import LaneDetector
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    folder = data_path(TRAIN_FOLDER)
    if folder is None or not (folder / "labels.json").is_file():
        print(f"needs {TRAIN_FOLDER}/ in ../shared/data", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in (folder / "labels.json").read_text().splitlines()
            if line.strip()]
    rows = [r for r in rows if is_validation(r["raw_file"]) == (args.split == "val")]
    cases = list(erased_frames(rows, folder))
    if args.save:
        out = Path(args.save)
        out.mkdir(parents=True, exist_ok=True)
        for name, _, erased, _, _ in cases:
            cv2.imwrite(str(out / (name.replace("/", "_").replace(":", "_") + ".png")), erased)
    print(f"{len(cases)} outer lines painted out of {len(rows)} frames of {TRAIN_FOLDER} "
          f"({args.split})")
    print(f"{'model':60s} erased (lower is better)  painted (higher is better)")
    for model in args.models:
        with LaneDetector(model=model, threads=1) as det:
            erased = [reported(det, e, gt, ys) for _, _, e, gt, ys in cases]
            painted = [reported(det, f, gt, ys) for _, f, _, gt, ys in cases]
        print(f"{model:60s} {np.mean(erased):.3f}                    {np.mean(painted):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
