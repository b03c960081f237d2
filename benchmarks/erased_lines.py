"""Does a model draw an outer line where there is no paint? Outer lines painted out of real frames.

  python benchmarks/erased_lines.py [MODEL ...] [--split val|train] [--save DIR]

On the real labelled frames of ``tusimple-train`` (by default its validation drive, the frames
models are chosen on; ``tools/train/split.py``), each outer line (L2, R2 by position, as
training assigns them) is painted out of its frame (``tools/evaluate/erased.py``: OpenCV's
Navier-Stokes inpainting, not the Telea method ``lanecam train --erase-outer`` trains with).
What is left where the line was is the road, its edge, a shoulder or a barrier without paint.
For each model (default the bundled one) it prints:

- ``erased``: the share of erased lines the model still reports at that place. Lower is
  better: these are false outer lines on bare road edges and barriers, the failure "a false L2
  beside a median barrier".
- ``painted``: the share of the same lines found in the original frame. Higher is better; a
  model that stops reporting outer lines altogether would score low here.

It reports; it chooses nothing on its own (docs/model.md says how it was used). ``--save``
writes the erased frames as PNGs to look at. ``compare_models.py`` prints the same two shares.
"""

import argparse
import json
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
    ap.add_argument("--save", metavar="DIR", help="also write the erased frames here as PNG")
    args = ap.parse_args(argv)

    import cv2

    from lanecam.tools.evaluate.erased import erased_cases, erased_line_shares
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    folder = data_path(TRAIN_FOLDER)
    if folder is None or not (folder / "labels.json").is_file():
        print(f"needs {TRAIN_FOLDER}/ in ../shared/data", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in (folder / "labels.json").read_text().splitlines()
            if line.strip()]
    rows = [r for r in rows if is_validation(r["raw_file"]) == (args.split == "val")]
    cases = list(erased_cases(rows, folder))
    if args.save:
        out = make_folder(args.save, "--save")
        for case in cases:
            name = case.name.replace("/", "_").replace(":", "_")
            cv2.imwrite(str(out / f"{name}.png"), case.erased)
    print(f"{len(cases)} outer lines painted out of {len(rows)} frames of {TRAIN_FOLDER} "
          f"({args.split})")
    print(f"{'model':60s} erased (lower is better)  painted (higher is better)")
    for model in args.models:
        erased, painted = erased_line_shares(model, cases)
        print(f"{model:60s} {erased:.3f}                    {painted:.3f}")
    return 0


if __name__ == "__main__":
    from lanecam.pipeline.errors import LanecamError

    try:
        sys.exit(main())
    except LanecamError as exc:     # a bad model path or data file: one line, not a traceback
        print(f"erased_lines: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
