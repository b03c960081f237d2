"""The train / validation split of the real labelled TuSimple training frames.

Neighbouring TuSimple clips are a second apart and near duplicates, so a random split would
put the same road in both halves and make validation meaningless. The split is by drive: every
frame of the sets in ``VALIDATION_SETS`` is validation (choosing models and thresholds), the
other sets are trained on. Set 0601 (33 frames, 2017-06-01) is a different day from the two
0313 sets (212 frames); the 15 test frames (``tusimple/``, ``tusimple-test/``) are in neither.
Training (``lanecam train --hold-out``) and evaluation (``lanecam evaluate``'s
``tusimple_val`` row) both use this one rule.
"""

from pathlib import PurePosixPath

__all__ = ["VALIDATION_SETS", "TRAIN_FOLDER", "is_validation"]

VALIDATION_SETS = ("0601",)
TRAIN_FOLDER = "tusimple-train"    # the data folder's real labelled training frames


def is_validation(raw_file: str) -> bool:
    """Whether a label row's ``raw_file`` (``clips/<set>/<clip>/20.jpg``) is validation."""
    parts = PurePosixPath(str(raw_file).replace("\\", "/")).parts
    return len(parts) >= 2 and parts[0] == "clips" and parts[1] in VALIDATION_SETS
