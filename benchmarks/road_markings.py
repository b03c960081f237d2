"""Does a model take road markings for lane lines? Arrows, crosswalks, words painted on.

  python benchmarks/road_markings.py [MODEL ...] [--split val|train] [--save DIR]

On the real labelled frames of ``tusimple-train`` (by default its validation drive, the frames
models are chosen on; ``tools/train/split.py``), each frame gets three markings of each kind,
one at a time (``tools/evaluate/marked.py``: arrow, crosswalk, stop line, word, diamond,
hatching; fixed seeds) with its labels unchanged, and each model (default the bundled one) is scored by the
TuSimple rule, as recorded and per kind. FP rising over "as recorded" is a marking read as a
line; FN rising, a line lost beside or under one. It reports; it chooses nothing on its own.
``--save`` writes the painted frames as PNGs to look at. ``compare_models.py`` prints the same
rows.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanecam.pipeline.data_paths import data_path  # noqa: E402
from lanecam.pipeline.outputs import make_folder  # noqa: E402

BUNDLED = ROOT / "engines" / "models" / "lanefcn" / "lanefcn.onnx"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", default=[str(BUNDLED)], metavar="MODEL")
    ap.add_argument("--split", choices=("val", "train"), default="val")
    ap.add_argument("--save", metavar="DIR", help="also write the painted frames here as PNG")
    args = ap.parse_args(argv)

    import cv2

    from lanecam.tools.evaluate.datasets import load_tusimple
    from lanecam.tools.evaluate.marked import marked_views, marking_scores
    from lanecam.tools.evaluate.predict import read_image
    from lanecam.tools.train.markings import MARKING_KINDS
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    labels = data_path(TRAIN_FOLDER, "labels.json")
    if labels is None:
        print(f"needs {TRAIN_FOLDER}/ in ../shared/data", file=sys.stderr)
        return 2
    root = labels.parent
    rows = load_tusimple(root, lambda row: is_validation(row["raw_file"]) == (args.split == "val"))
    if args.save:
        out = make_folder(args.save, "--save")
        frames = [(row, read_image(root / row["raw_file"])) for row in rows]
        for kind in MARKING_KINDS:
            for name, frame, *_ in marked_views(frames, kind):
                cv2.imwrite(str(out / f"{kind}_{name.replace('/', '_').replace('#', '_')}.png"), frame)
    print(f"{len(rows)} frames of {TRAIN_FOLDER} ({args.split}), three markings of each kind; "
          f"TuSimple accuracy / FP / FN")
    for model in args.models:
        print(model)
        for name, values in marking_scores(model, rows, root).items():
            print(f"  {name:22s} " + " / ".join(f"{v:.3f}" for v in values))
    return 0


if __name__ == "__main__":
    from lanecam.pipeline.errors import LanecamError

    try:
        sys.exit(main())
    except LanecamError as exc:     # a bad model path or data file: one line, not a traceback
        print(f"road_markings: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
