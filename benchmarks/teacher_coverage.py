"""Would TwinLiteNet's lane-line masks teach LaneFCN anything? Coverage of labelled lines.

  python benchmarks/teacher_coverage.py [--model M.onnx] [--split val|train] [--tolerance PX]
                                        [--limit N] [--look night|rain|shadows] [--clips]

On the real labelled frames of ``tusimple-train`` (by default its validation drive, the frames
models are chosen on; ``tools/train/split.py``), for TwinLiteNet (the real-data teacher in
``../shared/data/models/teachers/twinlitenet``: BDD100K, 640x360) and a LaneFCN model (default
the bundled one), print:

- per slot (L2, L1, R1, R2 by position, as training assigns them), the share of labelled line
  points below the model's horizon crop with a positive pixel within ``--tolerance`` px (at
  1280x720): the pixel-level recall a teacher could pass on;
- the share of positive pixels (below the top labelled row) within the tolerance of a
  labelled line: pixel precision.

LaneFCN's positives are the pixels where any slot's probability exceeds the model's lane
threshold (the input to lane extraction). The labels continue behind vehicles, so neither
model can reach 1.0. This measures masks, not lanes: the TuSimple metric is
``lanecam evaluate``'s job. It reports; it chooses nothing.

``--look`` first gives every frame a look the training augmentation draws (``night``: the
car's headlights only, ``rain``: haze and streaks, ``shadows``; one fixed draw per frame), the
same for both models: BDD100K's night and rain frames are what TwinLiteNet knows and the
TuSimple frames lack.

``--clips`` instead counts, on the two real clips where the car drives in the leftmost lane
(left of L1 is the shoulder and a barrier, never another lane), the share of frames in which
TwinLiteNet marks a line left of LaneFCN's L1 (positive pixels more than ``--tolerance`` px
left of it on at least 30 % of L1's rows), beside the share in which LaneFCN reports an L2:
how often each would teach "a line here" on the barrier side.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanecam.pipeline.data_paths import data_path  # noqa: E402
from lanecam.pipeline.options import int_at_least  # noqa: E402

SLOTS = ("L2", "L1", "R1", "R2")
TEACHER = ("models", "teachers", "twinlitenet", "twinlitenet_bdd100k_640x360.onnx")


def twinlitenet_mask(session, frame):
    """Lane-line pixels of a BGR frame at its own size. The data README notes the output
    names are swapped: 'segmentation' holds the lane lines."""
    import cv2

    h, w = frame.shape[:2]
    x = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), (640, 360)).astype(np.float32) / 255
    names = [o.name for o in session.get_outputs()]
    out = dict(zip(names, session.run(None, {"input": x.transpose(2, 0, 1)[None]})))
    lines = (out["segmentation"][0].argmax(0) == 1).astype(np.uint8)
    return cv2.resize(lines, (w, h), interpolation=cv2.INTER_NEAREST)


def lanefcn_mask(engine, spec, pre, frame):
    """Pixels where any slot's probability passes the model's lane threshold, at frame size."""
    import cv2

    h, w = frame.shape[:2]
    prob = np.asarray(engine.infer(pre(frame))[spec.seg_output])[0]       # (H, W, 1 + slots)
    lines = (prob[..., 1:].max(-1) > spec.lane_threshold).astype(np.uint8)
    top, bottom = spec.crop_rows(h)
    mask = np.zeros((h, w), np.uint8)
    mask[top:bottom] = cv2.resize(lines, (w, bottom - top), interpolation=cv2.INTER_NEAREST)
    return mask


LOOKS = ("none", "night", "rain", "shadows")


def with_look(frame, look: str, seed: int):
    """The BGR ``frame`` with one draw of a training look (``none``: unchanged)."""
    import cv2

    from lanecam.tools.train import augment
    from lanecam.tools.train.data import night_transfer

    if look == "none":
        return frame
    rng = np.random.default_rng(seed)
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    if look == "night":
        rgb = night_transfer(rgb, rng)
    else:
        step = augment._rain if look == "rain" else augment._shadows
        rgb = np.clip(step(rgb.astype(np.float32), rng), 0, 255).astype(np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def clip_counts(session, model: str, tol: int) -> dict:
    """clip -> (frames, frames where TwinLiteNet marks a line left of L1, frames with an L2),
    with LaneFCN's L1 as the reference (frames without an L1 are skipped)."""
    from lanecam import LaneDetector
    from compare_models import LEFT_LANE_CLIPS

    from lanecam.tools.evaluate.video_frames import video_frames

    out = {}
    for name in LEFT_LANE_CLIPS:
        path = data_path("videos", name)
        if path is None:
            continue
        seen = teacher_left = l2 = 0
        with LaneDetector(model=model, threads=1) as det:
            for index, frame in enumerate(video_frames(path)):
                lanes = {lane.slot: lane for lane in det(frame, index).lanes}
                if "L1" not in lanes:
                    continue
                seen += 1
                l2 += "L2" in lanes
                xs = lanes["L1"].x_at(np.arange(frame.shape[0], dtype=float))
                rows = np.flatnonzero(np.isfinite(xs))
                mask = twinlitenet_mask(session, frame)
                left = sum(int(xs[y]) - tol > 0 and bool(mask[y, :int(xs[y]) - tol].any())
                           for y in rows)
                teacher_left += len(rows) > 0 and left >= 0.3 * len(rows)
        out[name] = (seen, teacher_left, l2)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(ROOT / "engines" / "models" / "lanefcn" / "lanefcn.onnx"))
    ap.add_argument("--split", choices=("val", "train"), default="val")
    ap.add_argument("--tolerance", type=int_at_least(0, 200), default=16,
                    help="px at the frame's size (default 16)")
    ap.add_argument("--limit", type=int_at_least(0), default=0,
                    help="at most N frames (0: all)")
    ap.add_argument("--look", choices=LOOKS, default="none",
                    help="give every frame this training look first (default none)")
    ap.add_argument("--clips", action="store_true",
                    help="count lines left of L1 on the left-lane clips instead")
    args = ap.parse_args(argv)

    import cv2
    import onnxruntime as ort

    from lanecam.engines.loader import open_engine
    from lanecam.pipeline.preprocess import Preprocessor
    from lanecam.tools.train.data import assign_slots
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    folder, teacher = data_path(TRAIN_FOLDER), data_path(*TEACHER)
    if folder is None or teacher is None or not (folder / "labels.json").is_file():
        print(f"needs {TRAIN_FOLDER}/ and {'/'.join(TEACHER)} in ../shared/data", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in (folder / "labels.json").read_text().splitlines()
            if line.strip()]
    rows = [r for r in rows if is_validation(r["raw_file"]) == (args.split == "val")]
    if args.limit:
        rows = rows[:args.limit]
    session = ort.InferenceSession(str(teacher), providers=["CPUExecutionProvider"])
    if args.clips:
        for name, (seen, left, l2) in clip_counts(session, args.model, args.tolerance).items():
            print(f"{name}: {seen} frames with an L1; TwinLiteNet marks a line left of it in "
                  f"{left / max(seen, 1):.3f}; LaneFCN reports an L2 in {l2 / max(seen, 1):.3f}")
        return 0
    engine = open_engine(args.model).open()
    spec = engine.spec
    tol = args.tolerance
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tol + 1, 2 * tol + 1))
    hits = {m: np.zeros((len(SLOTS), 2)) for m in ("TwinLiteNet", "LaneFCN")}
    precision = {m: [] for m in hits}
    pres = {}
    for k, row in enumerate(rows):
        frame = with_look(cv2.imread(str(folder / row["raw_file"])), args.look, 6100 + k)
        h, w = frame.shape[:2]
        pre = pres.setdefault((w, h), Preprocessor(spec, w, h))
        lanes = assign_slots(row["lanes"], row["h_samples"], w, h)
        top = spec.crop_rows(h)[0]
        labelled = np.zeros((h, w), np.uint8)
        for _, pts in lanes:
            cv2.polylines(labelled, [np.round(pts).astype(np.int32)], False, 1, 3)
        near_label = cv2.dilate(labelled, disk).astype(bool)
        first = max(min(row["h_samples"]), top)
        masks = {"TwinLiteNet": twinlitenet_mask(session, frame),
                 "LaneFCN": lanefcn_mask(engine, spec, pre, frame)}
        for name, mask in masks.items():
            near = cv2.dilate(mask, disk).astype(bool)
            for slot, pts in lanes:
                pts = pts[pts[:, 1] >= top]
                xi = np.clip(np.round(pts[:, 0]).astype(int), 0, w - 1)
                yi = np.clip(np.round(pts[:, 1]).astype(int), 0, h - 1)
                hits[name][slot] += (near[yi, xi].sum(), len(xi))
            positive = mask[first:].astype(bool)
            if positive.any():
                precision[name].append(float(near_label[first:][positive].mean()))
    engine.close()
    print(f"{len(rows)} frames of {TRAIN_FOLDER} ({args.split}), look {args.look}, tolerance "
          f"{tol} px; LaneFCN = {args.model}")
    for name in hits:
        recall = " ".join(f"{s} {h / max(n, 1):.3f}" for s, (h, n) in zip(SLOTS, hits[name]))
        print(f"{name:12s} recall of labelled points: {recall}; pixel precision "
              f"{np.mean(precision[name]) if precision[name] else float('nan'):.3f}")
    return 0


if __name__ == "__main__":
    from lanecam.pipeline.errors import LanecamError

    try:
        sys.exit(main())
    except LanecamError as exc:     # a bad model path or data file: one line, not a traceback
        print(f"teacher_coverage: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
