"""Train the lane FCN on road-renderer frames made on the fly (needs the [train] extra).

The run folder (--out) holds checkpoints, the per-epoch history and the final model; with
--export the final model is also exported to ONNX (plus its Keras file and ModelSpec) into
that folder, e.g. engines/models/lanefcn to replace the bundled model. Real frames in TuSimple
format can be mixed in (--tusimple-labels/--tusimple-root); the TuSimple folder given to
--eval-tusimple is scored after every epoch and never trained on.
"""

from pathlib import Path

from lanecam.pipeline.errors import InputError



def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="run folder: checkpoints, history, final model")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last finished epoch")
    parser.add_argument("--export", metavar="DIR",
                        help="also write lanefcn.keras, lanefcn.onnx and lanefcn.spec.json here")
    parser.add_argument("--epochs", type=int, default=22)
    parser.add_argument("--steps", type=int, default=250, help="steps per epoch")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (cosine decay)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="sample-making processes")
    parser.add_argument("--crop-top", type=float, default=0.30,
                        help="fraction of the frame height cut off at the top (default 0.30)")
    parser.add_argument("--val-count", type=int, default=192,
                        help="fixed synthetic validation frames")
    parser.add_argument("--threshold-frames", type=int, default=100, metavar="N",
                        help="synthetic frames that choose the extraction thresholds (0: keep "
                             "the defaults)")
    parser.add_argument("--synthetic-eval", type=int, default=40, metavar="N",
                        help="synthetic 1280x720 frames scored with the TuSimple metric per epoch")
    parser.add_argument("--eval-tusimple", metavar="DIR",
                        help="TuSimple folder (labels.json + images) scored after every epoch; "
                             "default <data>/tusimple when it exists (data: $LANECAM_DATA, "
                             "./shared/data or ../shared/data); 'none' to skip")
    parser.add_argument("--tusimple-labels", metavar="JSON", nargs="+", default=[],
                        help="train also on real frames: TuSimple label files ...")
    parser.add_argument("--tusimple-root", metavar="DIR",
                        help="... and the folder their raw_file paths are relative to")
    parser.add_argument("--real-fraction", type=float, default=0.5,
                        help="share of real samples when --tusimple-labels is given")
    parser.add_argument("--widths", default="24,32,48,64,96",
                        help="encoder widths (stem,/2,/4,/8,/16)")
    parser.add_argument("--decoder-width", type=int, default=32)


def _widths(text: str) -> tuple:
    try:
        w = tuple(int(v) for v in text.split(","))
    except ValueError:
        w = ()
    if len(w) != 5 or min(w) < 1:
        raise InputError(f"--widths: expected 5 positive integers like 16,24,32,48,64, got {text!r}")
    return w


def run(args) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from lanecam.tools.train.trainer import TrainConfig, check_config, train

    ev = args.eval_tusimple
    if ev is None:
        from lanecam.pipeline.data_paths import data_path

        labels = data_path("tusimple", "labels.json")
        ev = str(labels.parent) if labels else None
    cfg = TrainConfig(out=args.out, epochs=args.epochs, steps=args.steps, batch=args.batch,
                      lr=args.lr, seed=args.seed, workers=args.workers, crop_top=args.crop_top,
                      val_count=args.val_count, threshold_frames=args.threshold_frames,
                      synthetic_eval=args.synthetic_eval,
                      tusimple_eval=None if ev in (None, "none") else ev,
                      data_labels=list(args.tusimple_labels), data_root=args.tusimple_root,
                      real_fraction=args.real_fraction, widths=_widths(args.widths),
                      decoder_width=args.decoder_width)
    check_config(cfg)
    model, spec = train(cfg, resume=args.resume)
    if args.export:
        from lanecam.tools.export import export_keras

        dest = Path(args.export)
        dest.mkdir(parents=True, exist_ok=True)
        model.save(dest / "lanefcn.keras")
        export_keras(model, dest / "lanefcn.onnx", spec)
        print(f"train: exported {dest / 'lanefcn.onnx'} (+ lanefcn.keras, lanefcn.spec.json)")
    return 0
