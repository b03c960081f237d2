"""Score a lane model: TuSimple and CULane metrics on real frames, synthetic frames, prediction files.

Modes:
  lanecam evaluate [--tusimple DIR...] [--culane DIR...] [--synthetic N] [--report out.json]
                   [--sheet out.png]
      run the model on real TuSimple folders (default <data>/tusimple and <data>/tusimple-test
      when present: each on its own and all frames together), CULane-format folders (F1 at
      IoU 0.5, 30 px lanes) and/or N synthetic renderer frames; print the scores.
  lanecam evaluate --predict DIR --out out.jsonl [--h-samples START:STOP:STEP] [--gt labels.json]
      write TuSimple-format predictions for every image under DIR (and score them).
  lanecam evaluate --gt labels.json --pred out.jsonl
      score an existing prediction file; no model needed.
"""

import json
from pathlib import Path
from typing import List

from lanecam.pipeline.constants import DEFAULT_H_SAMPLES, range_text
from lanecam.pipeline.options import SEED, finite_float, int_at_least

__all__ = ["add_arguments", "run", "SYNTHETIC_MIXES", "REPORT_KEYS"]

# --synthetic-mix choices, the first the default
SYNTHETIC_MIXES = ("v2", "v1", "v3")
# the report's own keys and the fixed names of results: a folder of one of these names is
# reported under another (spec-2), or its entry would overwrite the spec or a result
REPORT_KEYS = ("model", "spec", "engine", "tusimple_all", "tusimple_val", "synthetic",
               *(f"synthetic_{mix}" for mix in SYNTHETIC_MIXES[1:]))


def _crop_top(text: str):
    """``--crop-top``'s argparse type: a share of the height or ``auto``."""
    import argparse

    from lanecam.pipeline.lanes.horizon import parse_crop_top

    try:
        return parse_crop_top(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc}, got {text!r}") from None


def add_arguments(parser) -> None:
    """Options of ``lanecam evaluate``."""
    from lanecam.engines.keras_code_scan import add_trust_flag

    add_trust_flag(parser)
    parser.add_argument("--model", metavar="PATH", help="model file (default: the bundled LaneFCN)")
    parser.add_argument("--engine", default="auto", help="engine: auto, onnxruntime, ... (default auto)")
    parser.add_argument("--tusimple", metavar="DIR", nargs="+",
                        help="TuSimple folders: labels.json + images, each scored on its own and, "
                             "when several, all frames together (default <data>/tusimple and "
                             "<data>/tusimple-test when present; data: $LANECAM_DATA or "
                             "./shared/data or ../shared/data)")
    parser.add_argument("--no-tusimple", action="store_true", help="skip the real TuSimple frames")
    parser.add_argument("--tusimple-val", metavar="DIR",
                        help="a folder of TuSimple training frames whose validation split "
                             "(tools/train/split.py: the drives models are chosen on) is scored "
                             "as tusimple_val, apart from the test frames (default "
                             "<data>/tusimple-train when present; 'none' skips it)")
    parser.add_argument("--culane", metavar="DIR", nargs="+",
                        help="CULane-format folders (NAME.jpg + NAME.lines.txt, searched "
                             "recursively): F1 at IoU 0.5 with 30 px lanes, the share of "
                             "frames with a false outer line and the share with both ego "
                             "lines found")
    parser.add_argument("--synthetic", metavar="N", type=int_at_least(0), default=0,
                        help="also score N synthetic renderer frames (fixed seeds)")
    parser.add_argument("--synthetic-mix", choices=SYNTHETIC_MIXES, default=SYNTHETIC_MIXES[0],
                        help="scene distribution of --synthetic: v2 (barriers, traffic, night, "
                             "no-road frames; default), v1 (the first renderer's, to compare "
                             "with numbers measured before v2) or v3 (v2 with lanes of unequal "
                             "widths)")
    parser.add_argument("--seed", type=SEED, default=None,
                        help="first seed of the synthetic frames")
    parser.add_argument("--images", metavar="DIR",
                        help="extra unlabelled frames for the contact sheet (default "
                             "<data>/images when present)")
    parser.add_argument("--videos", metavar="PATH", nargs="+",
                        help="videos (files or folders of them) whose evenly spaced frames are "
                             "added to the --sheet, to look at the model on whole clips")
    parser.add_argument("--video-frames", metavar="N", type=int, default=6,
                        help="frames per video on the sheet (default 6)")
    parser.add_argument("--report", metavar="OUT.json", help="write a JSON report")
    parser.add_argument("--sheet", metavar="OUT.png", help="write a contact sheet of predictions")
    parser.add_argument("--predict", metavar="DIR", help="predict every image under DIR")
    parser.add_argument("--out", metavar="OUT.jsonl", help="predictions file written by --predict")
    parser.add_argument("--h-samples", metavar="START:STOP:STEP",
                        help="rows of the TuSimple x lists (default "
                             f"{range_text(DEFAULT_H_SAMPLES)})")
    parser.add_argument("--gt", metavar="LABELS.json", help="TuSimple ground-truth label lines")
    parser.add_argument("--pred", metavar="PRED.jsonl", help="prediction file to score against --gt")
    parser.add_argument("--threshold", type=finite_float, default=None,
                        help="per-pixel lane threshold (default: the model spec's)")
    parser.add_argument("--exist-threshold", type=finite_float, default=None,
                        help="minimum lane existence probability (default: the model spec's)")
    parser.add_argument("--crop-top", type=_crop_top, default=None, metavar="F|auto",
                        help="share of the frame height cut off above the road (default: the "
                             "model spec's): about 0.015 above where the lane lines meet; "
                             "auto: moved up to that when the found ego lines meet higher, "
                             "learnt over the frames of each size in order (lanecam run "
                             "--help)")


def run(args) -> int:
    """Run the selected mode; returns the exit code."""
    from lanecam.engines.keras_code_scan import apply_trust_flag

    apply_trust_flag(args)
    from lanecam.pipeline.errors import InputError

    _check_outputs(args)

    if args.pred:
        if not args.gt:
            raise InputError("--pred: also give --gt LABELS.json to score against")
        return _score_file(args)
    if args.predict:
        if not args.out:
            raise InputError("--predict: also give --out OUT.jsonl for the predictions")
        return _predict(args)
    if args.synthetic < 0:
        raise InputError(f"--synthetic: expected a number of frames >= 0, got {args.synthetic}")
    if args.videos and not args.sheet:
        raise InputError("--videos: also give --sheet OUT.png (the video frames go on the sheet)")
    if args.sheet and Path(args.sheet).suffix.lower() not in ("", ".png", ".jpg", ".jpeg"):
        # checked now, not once every frame is scored and the sheet cannot be encoded
        raise InputError(f"--sheet {args.sheet}: expected an image name (.png, .jpg)")
    if not 1 <= args.video_frames <= 100:
        raise InputError(f"--video-frames: expected 1..100, got {args.video_frames}")
    if args.videos:
        from lanecam.tools.evaluate.video_frames import check_videos

        check_videos(args.videos)   # they are drawn last, after all the scoring
    return _evaluate(args)


def _check_outputs(args) -> None:
    """Refuse, before any frame is scored, outputs that would overwrite an input or each other
    or cannot be written (a report lost after minutes of inference)."""
    from lanecam.pipeline.outputs import check_outputs

    from lanecam.engines.loader import model_files

    # every file read is an input, the spec beside the model too
    inputs = {**(model_files(args.model) if args.model else {}), "--images": args.images,
              "--predict": args.predict, "--gt": args.gt, "--pred": args.pred}
    for flag in ("tusimple", "culane", "videos"):
        for i, folder in enumerate(getattr(args, flag) or []):
            inputs[f"--{flag} ({i + 1})"] = folder
    check_outputs(inputs,
                  {"--report": args.report, "--sheet": args.sheet,
                   "--out": args.out if args.predict else None})


def _predictor(args):
    from lanecam.tools.evaluate.predict import Predictor

    return Predictor(args.model, engine=args.engine, threshold=args.threshold,
                     exist_threshold=args.exist_threshold, crop_top=args.crop_top)


def _score_file(args) -> int:
    from lanecam.tools.evaluate.tusimple import score_files

    score = score_files(args.pred, args.gt)
    _print_table([("predictions", len(score.frames), score, None)])
    _write_report(args.report, {"predictions": str(args.pred), "gt": str(args.gt),
                                "tusimple": score.to_dict()})
    return 0


def _predict(args) -> int:
    from lanecam.tools.evaluate.predict import parse_h_samples, predict_folder
    from lanecam.tools.evaluate.tusimple import score_files

    h_samples = parse_h_samples(args.h_samples)
    with _predictor(args) as predictor:
        rows = list(predict_folder(predictor, args.predict, args.out, h_samples))
    times = [r["run_time"] for r in rows]
    print(f"{len(rows)} images -> {args.out} (mean run_time {sum(times) / len(times):.1f} ms, "
          f"{predictor.name})")
    report = {"predict": str(args.predict), "out": str(args.out), "images": len(rows)}
    if args.gt:
        score = score_files(args.out, args.gt)
        _print_table([("predictions", len(score.frames), score, None)])
        report["tusimple"] = score.to_dict()
    _write_report(args.report, report)
    return 0


def _tusimple_folders(args) -> List[Path]:
    from lanecam.pipeline.data_paths import data_path

    if args.no_tusimple:
        return []
    if args.tusimple:
        return [Path(f) for f in args.tusimple]
    found = [data_path(name) for name in ("tusimple", "tusimple-test")]
    return [f for f in found if f is not None and (f / "labels.json").is_file()]


def _validation_folder(args):
    """The TuSimple training folder whose validation split is scored, or None."""
    from lanecam.pipeline.data_paths import data_path
    from lanecam.tools.train.split import TRAIN_FOLDER

    if args.tusimple_val == "none" or (args.no_tusimple and not args.tusimple_val):
        return None
    if args.tusimple_val:
        return Path(args.tusimple_val)
    if args.tusimple:   # folders chosen by hand: only those, unless asked
        return None
    found = data_path(TRAIN_FOLDER)
    return found if found is not None and (found / "labels.json").is_file() else None


def _unique_name(folder: Path, taken: set) -> str:
    name, n = folder.name or "tusimple", 2
    base = name
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _evaluate(args) -> int:
    from lanecam.pipeline.errors import InputError
    from lanecam.tools.evaluate.datasets import (SYNTHETIC_SEED, combine_tusimple,
                                                 evaluate_culane, evaluate_synthetic,
                                                 evaluate_tusimple)

    from lanecam.pipeline.data_paths import DATA_ENV

    folders = _tusimple_folders(args)
    culane = [Path(f) for f in args.culane or []]
    if (not folders and not culane and args.synthetic == 0 and not args.videos
            and _validation_folder(args) is None):
        raise InputError("nothing to evaluate: give --tusimple DIR, --culane DIR, --synthetic N or "
                         "--videos PATH --sheet OUT.png "
                         f"(no tusimple folder found in ${DATA_ENV}, ./shared/data or "
                         "../shared/data, or --no-tusimple)")
    results, lane_results, taken = [], [], set(REPORT_KEYS)
    with _predictor(args) as predictor:
        tusimple = [evaluate_tusimple(predictor, f, name=_unique_name(f, taken)) for f in folders]
        results += tusimple
        if len(tusimple) > 1:
            results.append(combine_tusimple(tusimple))
        val_folder = _validation_folder(args)
        if val_folder is not None:   # choosing frames: reported, never part of tusimple_all
            from lanecam.tools.train.split import is_validation

            results.append(evaluate_tusimple(predictor, val_folder, name="tusimple_val",
                                             select=lambda row: is_validation(row["raw_file"])))
        for f in culane:
            lane_results.append(evaluate_culane(predictor, f, name=_unique_name(f, taken)))
        if args.synthetic:
            seed = SYNTHETIC_SEED if args.seed is None else args.seed
            synth = evaluate_synthetic(predictor, args.synthetic, seed, mix=args.synthetic_mix)
            if args.synthetic_mix != SYNTHETIC_MIXES[0]:
                synth.name = f"synthetic_{args.synthetic_mix}"
            results.append(synth)
        engine_name, spec = predictor.name, predictor.spec
        if args.sheet:
            _sheet(args, predictor, tusimple)
    if results:   # (--videos alone only draws the sheet)
        _print_table([(r.name, len(r.frames), r.score, r.iou) for r in results])
    if lane_results:
        _print_culane(lane_results)
    crop = (f", crop_top {args.crop_top}" if args.crop_top == "auto"
            else f", crop_top {spec.crop_top}" if args.crop_top is not None else "")
    print(f"model: {spec.name} v{spec.version} ({args.model or 'bundled'}), engine: "
          f"{engine_name}{crop}")
    _write_report(args.report, {
        "model": str(args.model or "bundled"), "spec": spec.to_dict(), "engine": engine_name,
        # under --crop-top auto the spec holds the starting crop; each frame size's own
        # may have moved from it
        **({"crop_top": "auto"} if args.crop_top == "auto" else {}),
        **{r.name: r.to_dict() for r in results + lane_results}})
    return 0


def _print_culane(results) -> None:
    print(f"{'CULane rule':<14}{'frames':>7}{'F1':>8}{'prec':>8}{'recall':>8}"
          f"{'false outer':>13}{'both ego':>10}")
    for r in results:
        s = r.score
        share = s.false_outer_frames / s.frames if s.frames else 0.0
        # both ego lines found, of the frames labelled with a line on each side
        ego = f"{s.ego_share:.1%}" if s.ego_frames else "-"
        print(f"{r.name:<14}{s.frames:>7}{s.f1:>8.4f}{s.precision:>8.4f}{s.recall:>8.4f}"
              f"{share:>12.1%}{ego:>10}")


def _sheet(args, predictor, results) -> None:
    from lanecam.pipeline.overlay import Overlay
    from lanecam.tools.evaluate.predict import list_images, read_image
    from lanecam.tools.evaluate.sheet import render_tile, write_contact_sheet

    overlay, tiles, width = Overlay(show_hud=False), [], 480
    for res in results:   # the real labelled folders
        for rec in res.frames:
            acc = res.score.frames[rec.name].accuracy
            tiles.append(render_tile(read_image(rec.path), rec.result,
                                     f"{res.name}/{Path(rec.name).name}  acc {acc:.2f}", width,
                                     overlay,
                                     rec.gt_lanes, rec.h_samples))
    from lanecam.pipeline.data_paths import data_path

    images = Path(args.images) if args.images else data_path("images")
    if images is not None:
        for i, path in enumerate(list_images(images)):
            frame = read_image(path)
            result, _ = predictor(frame, i)
            tiles.append(render_tile(frame, result, f"{path.name}  (no GT)", width, overlay))
    if args.videos:
        from lanecam.tools.evaluate.video_frames import list_videos, spaced_frames

        for video in list_videos(args.videos):
            for i, frame in spaced_frames(video, args.video_frames):
                result, _ = predictor(frame, i)
                note = f"  ! {','.join(result.warnings)}" if result.warnings else ""
                tiles.append(render_tile(frame, result, f"{video.name} #{i}{note}", width,
                                         overlay))
    size = write_contact_sheet(tiles, args.sheet)
    print(f"contact sheet: {args.sheet} ({len(tiles)} frames, {size[0]}x{size[1]})")


def _print_table(rows) -> None:
    print(f"{'dataset':<14}{'frames':>7}{'accuracy':>10}{'FP':>8}{'FN':>8}")
    for name, n, score, _ in rows:
        print(f"{name:<14}{n:>7}{score.accuracy:>10.4f}{score.fp:>8.4f}{score.fn:>8.4f}")
    for name, _, _, iou in rows:
        if iou:
            vals = "  ".join(f"{k} {v:.3f}" for k, v in iou.items())
            print(f"per-slot IoU ({name}): {vals}")


def _write_report(path, report: dict) -> None:
    if not path:
        return
    from lanecam.pipeline.outputs import write_atomic

    path = write_atomic(path, json.dumps(report, indent=2, default=_json_default) + "\n",
                        "--report")
    print(f"report: {path}")


def _json_default(obj):
    try:
        return float(obj)
    except (TypeError, ValueError):
        return str(obj)
