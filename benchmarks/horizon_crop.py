"""Another camera's horizon: the TuSimple score of the validation drive cut to other windows,
with the model's crop (``--crop-top``) left at its default or set for the new horizon.

  python benchmarks/horizon_crop.py [--model M] [--crops 0.3,0.2,0.1,0.05,auto]

Each labelled frame of the validation drive (set 0601 of ``tusimple-train``) is cut to a row
window and scored as a frame of that size:

- rows 0-720: the recorded frame (the horizon near 0.39 of the height);
- rows 200-660: a camera pitched down, the horizon near 0.17 of its 460 rows;
- rows 68-528: a wide frame (1280x460) with the horizon near 0.46;
- rows 0-560 and 0-480: a camera pitched up, the horizon near 0.50 and 0.58 (the near road
  cut off at the bottom).

Labels above the model's crop cannot be reached, so a crop below the horizon costs whole lanes
(the TuSimple rule wants 85 % of a lane's labelled rows). Reports, chooses nothing.

``--drives N`` adds N renderer drives (``RoadRenderer``, 1280x720, ``--drive-frames`` frames each,
scored against the renderer's labels), each twice: as rendered, and with the camera pitched down
so that the flat-ground horizon sits at 0.12 of the height. A second camera with labels, made,
where the rows above are one real camera cut.

``auto`` is ``--crop-top auto``, which learns the crop from the ego lines of the frames it
has seen; it gets two columns: ``auto`` scores the frames in order from a fresh detector (its
first frames still at the model's crop, as the first second of a video), ``auto, warm`` scores
them once more with what it learnt in the first pass.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WINDOWS = ((0, 720), (200, 660), (68, 528), (0, 560), (0, 480))


def score(model, rows, root, top, bottom, crop_top, passes=1):
    """TuSimple [accuracy, FP, FN] of ``model`` on ``rows`` cut to rows [top, bottom), of the
    last of ``passes`` runs over them with one detector."""
    from lanecam import LaneDetector
    from lanecam.tools.evaluate.geometry import score_views
    from lanecam.tools.evaluate.predict import read_image

    def views():
        for row in rows:
            keep = [k for k, y in enumerate(row["h_samples"]) if top <= y < bottom]
            ys = [row["h_samples"][k] for k in keep]
            lanes = [[lane[k] for k in keep] for lane in row["lanes"]]
            lanes = [lane for lane in lanes if sum(x >= 0 for x in lane) >= 2]
            yield (row["raw_file"], read_image(root / row["raw_file"])[top:bottom], lanes, ys,
                   [y - top for y in ys])

    with LaneDetector(model=model, threads=1, crop_top=crop_top) as det:
        for _ in range(passes - 1):
            score_views(det, views())
        return score_views(det, views())


PITCHED_HORIZON = 0.12     # the drives' pitched-down camera: the flat horizon at this share


def drive_score(model, seed, frames, crop_top, pitched, passes=1):
    """TuSimple [accuracy, FP, FN] of ``model`` on ``frames`` frames of renderer drive
    ``seed``, in order with one detector (``auto`` learns as it goes), of the last of
    ``passes`` runs over the drive."""
    import math

    from lanecam import LaneDetector
    from lanecam.pipeline.constants import DEFAULT_H_SAMPLES
    from lanecam.pipeline.roadsim import RoadRenderer
    from lanecam.tools.evaluate.predict import tusimple_lanes
    from lanecam.tools.evaluate.tusimple import score_frames

    rows = [r for r in DEFAULT_H_SAMPLES if r < 720]
    with LaneDetector(model=model, threads=1, crop_top=crop_top) as det:
        for _ in range(passes):
            drive = RoadRenderer(1280, 720, seed=seed)    # the same drive again
            if pitched:
                s = drive.scene
                s.pitch = math.atan((s.cy - PITCHED_HORIZON * s.height) / s.fy)
            preds, truth = [], []
            for i in range(frames):
                frame, gt = drive.next()
                name = f"drive{seed}/{i}"
                preds.append({"raw_file": name, "run_time": 0.0,
                              "lanes": tusimple_lanes(det(frame, i), rows, 1280)})
                truth.append({"raw_file": name, "lanes": gt.tusimple_lanes(rows),
                              "h_samples": rows})
    s = score_frames(preds, truth)
    return [s.accuracy, s.fp, s.fn]


def _mean(cells):
    return [sum(c[k] for c in cells) / len(cells) for k in range(3)]


def _row(name, cells) -> str:
    """One table row: ``name | acc / FP / FN | ...``."""
    return f"{name} | " + " | ".join(" / ".join(f"{v:.3f}" for v in cell) for cell in cells)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="ONNX model (default: the bundled one)")
    ap.add_argument("--crops", default="0.3,0.2,0.1,0.05,auto",
                    help="crop_top values, comma-separated (default 0.3,0.2,0.1,0.05,auto)")
    ap.add_argument("--drives", type=int, default=0, metavar="N",
                    help="also N renderer drives, as rendered and pitched down (default 0)")
    ap.add_argument("--drive-frames", type=int, default=100, metavar="N",
                    help="frames per renderer drive (default 100)")
    args = ap.parse_args(argv)
    crops = [c if c == "auto" else float(c) for c in args.crops.split(",")]
    runs = [(c, 1) for c in crops] + [("auto", 2)] * ("auto" in crops)
    from lanecam.pipeline.data_paths import data_path
    from lanecam.pipeline.errors import LanecamError
    from lanecam.tools.evaluate.datasets import load_tusimple
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    labels = data_path(TRAIN_FOLDER, "labels.json")
    if labels is None:
        print(f"horizon_crop: needs ../shared/data/{TRAIN_FOLDER}", file=sys.stderr)
        return 2
    try:
        rows = load_tusimple(labels.parent, lambda row: is_validation(row["raw_file"]))
        print("rows of the frame | " + " | ".join(
            f"crop_top {c}" + (", warm" if passes > 1 else "") for c, passes in runs))
        for top, bottom in WINDOWS:
            cells = [score(args.model, rows, labels.parent, top, bottom, c, passes)
                     for c, passes in runs]
            print(_row(f"{top}-{bottom}", cells), flush=True)
        for pitched in (False, True) if args.drives else ():
            cells = [_mean([drive_score(args.model, 900_000 + k, args.drive_frames, c, pitched,
                                        passes) for k in range(args.drives)])
                     for c, passes in runs]
            what = f"horizon {PITCHED_HORIZON}" if pitched else "as rendered"
            print(_row(f"{args.drives} drives, {what}", cells), flush=True)
    except LanecamError as exc:
        print(f"horizon_crop: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
