"""Lane models side by side on every quality measure we have, in one run.

  python benchmarks/compare_models.py [MODEL ...] [--synthetic N] [--mixes v2,v1] [--seed S]
                                     [--no-tusimple] [--no-road N] [--json OUT]

MODEL defaults to the teacher v1 (tools/train/teacher) and the bundled LaneFCN. Columns:

- TuSimple accuracy / FP / FN on ``tusimple/``, ``tusimple-test/`` and all 15 frames together
  (the benchmark's rule; untimed, so a busy machine does not zero frames);
- the CULane rule (30 px lanes, IoU > 0.5) on the same 15 frames, their TuSimple labels drawn as
  CULane lines: F1, the share of frames with a false outer line (L2/R2 matching nothing) and
  the share of frames with both ego lines found;
- the renderer's hold-out frames with the v2 scene mix and with the v1 mix (``--synthetic N``;
  ``--mixes`` picks others, e.g. v3's unequal lanes), and the v2 and v3 frames again by scene
  kind (night, dense traffic, a barrier at the road edge...); ``--seed 700100`` scores
  renderer frames no model trained on that are not the hold-out either: those are the frames to
  choose between candidates on, with ``--no-tusimple``, which leaves the test frames out;
- rendered frames without a road (black, blown out, sky, tunnel): share with any lane;
- on the two real clips where the car drives in the leftmost lane: the share of frames with an L2
  (any L2 there is on the barrier or the verge), the share with both ego lines, and the median
  frame-to-frame move of the ego lines near the bottom (px; the car barely moves in its lane, so
  large moves are jitter);
- outer lines painted out of the validation drive's frames (``tools/evaluate/erased.py``): the
  share a model still reports there (lower is better: lines on bare edges and barriers) and
  the share it finds when painted;
- the validation drive's frames stretched as another camera's aspect would show them
  (``tools/evaluate/geometry.py``): TuSimple scores per stretch and their mean accuracy - 0.5 FP;
- the validation drive's frames with a road marking painted on (``tools/evaluate/marked.py``:
  arrow, crosswalk, stop line, word, diamond, hatching; labels unchanged): TuSimple scores per
  kind and their mean accuracy - 0.5 FP;
- model-only latency on one ONNX Runtime thread (p50, ms).

The real data comes from ``../shared/data`` (or $LANECAM_DATA); measures whose data is absent
are left out. These frames are test data: this script reports, it chooses nothing.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanecam.pipeline.data_paths import data_path  # noqa: E402
from lanecam.pipeline.errors import LanecamError  # noqa: E402
from lanecam.pipeline.options import SEED, int_at_least  # noqa: E402
from lanecam.pipeline.outputs import check_outputs, write_atomic  # noqa: E402
from lanecam.tools.evaluate.datasets import SYNTHETIC_SEED  # noqa: E402

TEACHER_V1 = ROOT / "tools" / "train" / "teacher" / "lanefcn-v1.onnx"
NO_ROAD_SEED = 500_000          # away from the hold-out seeds (900 000...) and training seeds
LEFT_LANE_CLIPS = ("udacity_project_highway.mp4", "udacity_vehicle_test.mp4")


def tusimple_scores(pred) -> dict:
    from lanecam.tools.evaluate.datasets import combine_tusimple, evaluate_tusimple

    results = [evaluate_tusimple(pred, data_path(name), timed=False, name=name)
               for name in ("tusimple", "tusimple-test") if data_path(name, "labels.json")]
    if len(results) > 1:
        results.append(combine_tusimple(results))
    return {r.name: [r.score.accuracy, r.score.fp, r.score.fn] for r in results}


def validation_scores(pred) -> dict:
    """TuSimple score on the validation split of the training frames (choosing frames)."""
    from lanecam.tools.evaluate.datasets import evaluate_tusimple
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    folder = data_path(TRAIN_FOLDER, "labels.json")
    if folder is None:
        return {}
    r = evaluate_tusimple(pred, folder.parent, timed=False, name="tusimple_val",
                          select=lambda row: is_validation(row["raw_file"]))
    return {"val (choosing)": [r.score.accuracy, r.score.fp, r.score.fn]}


def culane_from_tusimple(folder: Path) -> bool:
    """Link the TuSimple frames into ``folder`` with their labels as CULane ``.lines.txt``."""
    made = False
    for name in ("tusimple", "tusimple-test"):
        labels = data_path(name, "labels.json")
        if labels is None:
            continue
        for line in labels.read_text().splitlines():
            row = json.loads(line)
            image = labels.parent / row["raw_file"]
            stem = f"{name}_{Path(row['raw_file']).stem}"
            (folder / f"{stem}{image.suffix}").symlink_to(image)
            lanes = [" ".join(f"{x} {y}" for x, y in zip(xs, row["h_samples"]) if x >= 0)
                     for xs in row["lanes"]]
            (folder / f"{stem}.lines.txt").write_text("\n".join(ln for ln in lanes if ln) + "\n")
            made = True
    return made


def culane_scores(pred, folder: Path) -> list:
    from lanecam.tools.evaluate.datasets import evaluate_culane

    s = evaluate_culane(pred, folder).score
    return [s.f1, s.false_outer_frames / s.frames, s.ego_share]


# scene kinds of the renderer (``GroundTruth.kind`` holds them joined by "+"), grouped
SCENE_GROUPS = {"night": ("night",), "dense traffic": ("traffic",),
                "barrier/wall/curb/hedge": ("jersey", "rail", "wall", "curb", "hedge"),
                "unpainted edge": ("bare-edge",), "other camera": ("camera",),
                "bonnet": ("hood",), "wet": ("wet",), "uneven lanes (v3)": ("uneven",)}


def synthetic_scores(pred, count: int, mix: str, seed: int, by_kind: bool = False) -> dict:
    """{label: [accuracy, FP, FN]}: all frames, and per scene group when ``by_kind``."""
    from lanecam.tools.evaluate.datasets import SYNTHETIC_SIZE, evaluate_synthetic
    from lanecam.tools.evaluate.predict import tusimple_lanes
    from lanecam.tools.evaluate.tusimple import score_frames

    res = evaluate_synthetic(pred, count, seed=seed, timed=False, mix=mix)
    s = res.score
    out = {"": [s.accuracy, s.fp, s.fn]}
    if by_kind:
        for group, kinds in SCENE_GROUPS.items():
            sel = [r for r in res.frames if set(r.kind.split("+")) & set(kinds)]
            if not sel:
                continue
            preds = [{"raw_file": r.name, "run_time": 0,
                      "lanes": tusimple_lanes(r.result, r.h_samples, SYNTHETIC_SIZE[0])}
                     for r in sel]
            gts = [{"raw_file": r.name, "lanes": r.gt_lanes, "h_samples": r.h_samples}
                   for r in sel]
            g = score_frames(preds, gts)
            out[f": {group} ({len(sel)})"] = [g.accuracy, g.fp, g.fn]
    return out


def no_road_share(det, count: int) -> float:
    from lanecam.pipeline.roadsim import random_frame
    from lanecam.pipeline.roadsim.mix import SceneMix

    mix = SceneMix(no_road=1.0)
    with_lanes = 0
    for seed in range(NO_ROAD_SEED, NO_ROAD_SEED + count):
        frame, _ = random_frame(seed, 1280, 720, mix=mix)
        with_lanes += bool(det(frame).lanes)
    return with_lanes / count


def latency_p50(model) -> float:
    from model_latency import measure   # beside this script (its folder is on sys.path)

    return measure(model, "onnxruntime", 300, threads=1)["p50_ms"]


def validation_rows():
    """The validation drive's label rows and their folder; ([], None) without the data."""
    from lanecam.tools.evaluate.datasets import load_tusimple
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    labels = data_path(TRAIN_FOLDER, "labels.json")
    if labels is None:
        return [], None
    return load_tusimple(labels.parent, lambda row: is_validation(row["raw_file"])), labels.parent


def validation_erased_cases() -> list:
    """The erased-outer-line cases of the validation drive (empty without the data)."""
    from lanecam.tools.evaluate.erased import erased_cases

    rows, root = validation_rows()
    return list(erased_cases(rows, root)) if rows else []


def measure_model(model, args, culane_dir, erased=()) -> dict:
    from lanecam import LaneDetector
    from lanecam.tools.evaluate.predict import Predictor

    row = {}
    with Predictor(model) as pred:
        row.update({f"TuSimple {k}": v for k, v in validation_scores(pred).items()})
        if not args.no_tusimple:
            row.update({f"TuSimple {k}": v for k, v in tusimple_scores(pred).items()})
        if culane_dir is not None and not args.no_tusimple:
            row["CULane rule on TuSimple: F1, false outer, both ego"] = culane_scores(pred,
                                                                                     culane_dir)
        if args.synthetic:
            what = "hold-out" if args.seed == SYNTHETIC_SEED else f"seeds {args.seed}+"
            for mix in args.mixes.split(","):
                label = f"renderer {mix} {what} ({args.synthetic})"
                for suffix, values in synthetic_scores(pred, args.synthetic, mix, args.seed,
                                                       by_kind=mix != "v1").items():
                    row[label + suffix] = values
    if args.no_road:
        with LaneDetector(model=model, threads=1) as det:
            row[f"no-road frames with lanes ({args.no_road})"] = [no_road_share(det, args.no_road)]
    for name, values in clips_fresh(model).items():
        row[f"{name}: L2 (false), L1+R1, ego move px"] = values
    if erased:
        from lanecam.tools.evaluate.erased import erased_line_shares

        row[f"val outer lines erased ({len(erased)}): still reported, painted found"] = \
            erased_line_shares(model, erased)
    rows, root = validation_rows()
    if rows:
        from lanecam.tools.evaluate.geometry import geometry_scores

        for name, values in geometry_scores(model, rows, root).items():
            row[f"val seen as another camera: {name}"] = values
        from lanecam.tools.evaluate.marked import marking_scores

        for name, values in marking_scores(model, rows, root).items():
            row[f"val with road markings: {name}"] = values
    row["model only p50 ms (1 thread)"] = [latency_p50(model)]
    return row


def clips_fresh(model) -> dict:
    """Each clip with a fresh detector: the temporal state of one clip must not leak into the
    next."""
    from lanecam import LaneDetector

    out = {}
    for name in LEFT_LANE_CLIPS:
        with LaneDetector(model=model, threads=1) as det:
            out.update(_one_clip(det, name))
    return out


def _one_clip(det, name) -> dict:
    """Share of frames with an L2 (false on these clips), share with both ego lines, and the
    median frame-to-frame move of the ego lines near the bottom of the frame (px): label-free
    signs of how a model does on real footage."""
    import numpy as np

    from lanecam.tools.evaluate.video_frames import video_frames

    path = data_path("videos", name)
    if path is None:
        return {}
    frames = l2 = ego = 0
    prev, moves = {}, []
    for frame in video_frames(path):
        result = det(frame, frames)
        frames += 1
        lanes = {lane.slot: lane for lane in result.lanes}
        l2 += "L2" in lanes
        ego += "L1" in lanes and "R1" in lanes
        y = 0.9 * frame.shape[0]
        now = {s: float(lanes[s].x_at(np.array([y]))[0]) for s in ("L1", "R1") if s in lanes}
        moves += [abs(x - prev[s]) for s, x in now.items() if s in prev and np.isfinite(x)
                  and np.isfinite(prev[s])]
        prev = now
    if not frames:
        return {}
    return {name: [l2 / frames, ego / frames, float(np.median(moves)) if moves else float("nan")]}


def fmt(values) -> str:
    return " / ".join(f"{v:.3f}" for v in values)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="ONNX models (default: teacher v1 and the bundled)")
    ap.add_argument("--synthetic", type=int_at_least(0), default=100, metavar="N",
                    help="renderer hold-out frames per mix (0: skip)")
    ap.add_argument("--seed", type=SEED, default=SYNTHETIC_SEED,
                    help="first seed of the renderer frames (default: the hold-out, "
                         f"{SYNTHETIC_SEED}; 700100: frames for choosing between candidates)")
    ap.add_argument("--mixes", default="v2,v1",
                    help="renderer scene mixes, comma-separated (v1, v2, v3; default v2,v1)")
    ap.add_argument("--no-tusimple", action="store_true",
                    help="skip the TuSimple frames (when choosing between candidates: they are "
                         "the test set)")
    ap.add_argument("--no-road", type=int_at_least(0), default=200, metavar="N",
                    help="rendered no-road frames (0: skip)")
    ap.add_argument("--json", metavar="OUT", help="also write the table as JSON")
    args = ap.parse_args(argv)
    from lanecam.pipeline.roadsim.mix import MIXES

    bad = [m for m in args.mixes.split(",") if m not in MIXES]
    if bad:
        ap.error(f"--mixes: {', '.join(bad)}: expected names from {', '.join(MIXES)}")
    from lanecam.engines.loader import default_model_path

    models = args.models or [str(TEACHER_V1), str(default_model_path())]
    table = {}
    try:
        if args.json:   # before minutes of measuring: never over a model, into a real folder
            check_outputs({f"model #{i + 1}": m for i, m in enumerate(models)},
                          {"--json": args.json})
        with tempfile.TemporaryDirectory() as tmp:
            culane_dir = Path(tmp) if culane_from_tusimple(Path(tmp)) else None
            erased = validation_erased_cases()
            for model in models:
                print(f"measuring {model} ...", file=sys.stderr, flush=True)
                table[model] = measure_model(model, args, culane_dir, erased)
    except LanecamError as exc:
        print(f"compare_models: {exc}", file=sys.stderr)
        return exc.exit_code
    rows = list(dict.fromkeys(k for col in table.values() for k in col))
    width = max(len(r) for r in rows)
    for i, model in enumerate(models):
        print(f"[{i}] {model}")
    print(" " * width + "".join(f" | [{i}]".ljust(26) for i in range(len(models))))
    for r in rows:
        print(r.ljust(width) + "".join(
            f" | {fmt(table[m][r]) if r in table[m] else '-'}".ljust(26) for m in models))
    if args.json:
        try:
            write_atomic(args.json, json.dumps(table, indent=1), "--json")
        except LanecamError as exc:
            print(f"compare_models: {exc}", file=sys.stderr)
            return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
