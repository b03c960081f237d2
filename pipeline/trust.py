"""Trust signals: per-frame warnings when the input is outside what the lane model knows.

The model was trained on landscape video from a camera looking along a road. When a frame is
not that, its lanes should not be trusted silently. ``InputChecks`` looks at each frame (a
strided sample of its pixels: cheap at any size) and at the run's settings, and returns
warning codes that end up in ``LaneResult.warnings``, the JSON lines and the HUD:

- ``no_road``: black, blank (one colour), blown-out or dark-as-a-tunnel frame. Nothing on it is
  evidence of paint, so its lanes are removed whatever the model says.
- ``portrait``: a frame taller than wide, or ``aspect`` for one far from dashcam shapes
  (wider than 2.6:1 or narrower than 1.2:1).
- ``strong_roll``: the camera is rolled by more than ``ROLL_LIMIT_DEG`` according to the
  calibration's pose. (No estimate from the image: the tilt of straight edges above the road
  was tried and is noise on highway footage, which has few of them; see docs/model.md.)
- ``calibration_size``: the ``--calibration`` profile was made for another image size, so it
  is probably another camera and its geometry does not hold.

``WARNING_TEXT`` has the one-line explanation of each code (the CLI prints it once on stderr).
"""

import math
from typing import List, Optional

import numpy as np

__all__ = ["InputChecks", "WARNING_TEXT", "WARNING_SHORT", "ROLL_LIMIT_DEG", "frame_percentiles", "is_no_road"]

ROLL_LIMIT_DEG = 5.0

WARNING_TEXT = {
    "no_road": "no road visible (black, blank, blown-out or very dark frame): no lanes reported",
    "portrait": "portrait video: the model knows landscape dashcam frames; lanes may be wrong",
    "aspect": "unusual aspect ratio: the model knows dashcam frames (about 4:3 to 21:9); "
              "lanes may be wrong",
    "strong_roll": f"the camera is rolled by more than {ROLL_LIMIT_DEG:.0f} degrees: lanes may "
                   f"be missed or put in the wrong slot (mount the camera level)",
    "calibration_size": "the --calibration profile was made for another image size, probably "
                        "another camera: its lane geometry does not hold (calibrate this camera)",
}


# the HUD's short form of each warning
WARNING_SHORT = {"no_road": "no road visible", "portrait": "portrait video",
                 "aspect": "unusual aspect ratio", "strong_roll": "camera rolled",
                 "calibration_size": "calibration is for another camera"}


def frame_percentiles(frame: np.ndarray, top: float = 0.0, bottom: float = 0.8) -> np.ndarray:
    """5th, 95th and 99th percentile of the grey level of a strided sample of the rows between
    ``top`` and ``bottom`` (fractions of the height): the road, without the bonnet."""
    h, w = frame.shape[:2]
    step = max(1, min(h, w) // 90)
    band = frame[int(top * h):max(int(top * h) + 1, int(bottom * h)):step, ::step]
    grey = band.astype(np.float32)
    if grey.ndim == 3:
        grey = grey.mean(-1)
    return np.percentile(grey, (5.0, 95.0, 99.0))


def is_no_road(frame: np.ndarray, top: float = 0.0) -> bool:
    """True for a frame with nothing to see where the road should be (below ``top``): dark
    (99 % of the pixels under 32 of 255: lens cap, unlit tunnel; the darkest rendered night
    roads with lanes measure 53), flat (5th to 95th percentile within 8 grey levels: one colour)
    or blown out (95 % of the pixels above 225)."""
    p5, p95, p99 = frame_percentiles(frame, top)
    return bool(p99 < 32.0 or p95 - p5 < 8.0 or p5 > 225.0)


class InputChecks:
    """The warnings of one frame size (see the module docstring).

    Args:
        width, height: the frame size.
        crop_top: the model's crop (the road starts below it).
        profile: the calibration profile in use, or None.
    """

    def __init__(self, width: int, height: int, crop_top: float = 0.3, profile=None):
        self.crop_top = float(crop_top)
        self.static: List[str] = []
        if height > width:
            self.static.append("portrait")
        elif not 1.2 <= width / float(height) <= 2.6:
            self.static.append("aspect")
        if profile is not None:
            size = tuple(int(v) for v in profile.image_size)
            if size != (int(width), int(height)):
                self.static.append("calibration_size")
            bird = getattr(profile, "birdseye", None)
            roll = (getattr(bird, "pose", None) or {}).get("roll_rad") if bird is not None else None
            if roll is not None and abs(math.degrees(roll)) > ROLL_LIMIT_DEG:
                self.static.append("strong_roll")

    def check(self, frame: Optional[np.ndarray]) -> List[str]:
        """Warning codes for ``frame`` (a BGR frame of this size; None: the static ones)."""
        codes = list(self.static)
        if frame is None:
            return codes
        if is_no_road(frame, self.crop_top):
            codes.append("no_road")
        return codes
