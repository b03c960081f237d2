"""Trust signals: per-frame warnings when the input is outside what the lane model knows.

The model was trained on landscape video from a camera looking along a road. When a frame is
not that, its lanes should not be trusted silently. ``InputChecks`` looks at each frame (a
strided sample of its pixels: cheap at any size) and at the run's settings, and returns
warning codes that end up in ``LaneResult.warnings``, the JSON lines and the HUD:

- ``no_road``: black, blank (one colour), blown-out or dark-as-a-tunnel frame. Nothing on it is
  evidence of paint, so its lanes are removed whatever the model says (``is_no_road`` has the
  rule; it never looks at one part of the distribution alone, so a night frame, black but for
  bright lane paint, keeps its lanes).
- ``portrait``: a frame taller than wide, or ``aspect`` for one far from dashcam shapes
  (wider than 2.6:1 or narrower than 1.2:1).
- ``strong_roll``: the camera is rolled by more than ``ROLL_LIMIT_DEG`` according to the
  calibration's pose. (No estimate from the image: the tilt of straight edges above the road
  was tried and is noise on highway footage, which has few of them; see docs/model.md.)
- ``calibration_size``: the ``--calibration`` profile was made for another image size with the
  same shape (aspect ratios within ``ASPECT_TOLERANCE``). The profile is scaled to the frame, so
  its geometry holds if this is the same camera, resized; usually it is another camera, and then
  it does not. Both are possible, so the warning says both.
- ``calibration_aspect``: the profile was made for another aspect ratio. A resize keeps the
  shape, so this is another camera (or a cropped stream, whose principal point moved): the
  geometry does not hold. A separate code, not the same one with a firmer text, so that a
  reader of the JSON lines can tell "check" from "wrong" without parsing prose.

``WARNING_TEXT`` has the one-line explanation of each code (the CLI prints it once on stderr).
"""

import math
from typing import List, Optional

import numpy as np

__all__ = ["InputChecks", "WARNING_TEXT", "WARNING_SHORT", "ROLL_LIMIT_DEG", "ASPECT_TOLERANCE",
           "DARK_P99", "FLAT_SPREAD", "frame_percentiles", "is_no_road"]

ROLL_LIMIT_DEG = 5.0
# relative difference of aspect ratios beyond which a profile cannot be this camera resized
# (rounding a resize to whole pixels moves the ratio by well under 1 %)
ASPECT_TOLERANCE = 0.01
# is_no_road: grey levels (0-255) of the 99th percentile under which a frame is dark, and of
# the 5th-to-99th percentile spread under which it is flat (8 is too tight: sensor noise
# alone spreads 6 of the 60 noisy blank and blown-out frames of tests/test_trust.py over it)
DARK_P99 = 32.0
FLAT_SPREAD = 12.0

WARNING_TEXT = {
    "no_road": "no road visible (black, blank, blown-out or very dark frame): no lanes reported",
    "portrait": "portrait video: the model knows landscape dashcam frames; lanes may be wrong",
    "aspect": "unusual aspect ratio: the model knows dashcam frames (about 4:3 to 21:9); "
              "lanes may be wrong",
    "strong_roll": f"the camera is rolled by more than {ROLL_LIMIT_DEG:.0f} degrees: lanes may "
                   f"be missed or put in the wrong slot (mount the camera level)",
    "calibration_size": "the --calibration profile was made for another image size: its lane "
                        "geometry holds only if this is the same camera, resized (otherwise "
                        "calibrate this camera)",
    "calibration_aspect": "the --calibration profile was made for another aspect ratio, so for "
                          "another camera or a cropped stream: its lane geometry does not hold "
                          "(calibrate this camera)",
}


# the HUD's short form of each warning
WARNING_SHORT = {"no_road": "no road visible", "portrait": "portrait video",
                 "aspect": "unusual aspect ratio", "strong_roll": "camera rolled",
                 "calibration_size": "calibration is for another size",
                 "calibration_aspect": "calibration is for another camera"}


def frame_percentiles(frame: np.ndarray, top: float = 0.0, bottom: float = 0.8) -> np.ndarray:
    """5th, 95th and 99th percentile of the grey level (the mean of the channels) of a strided
    sample of the rows between ``top`` and ``bottom`` (fractions of the height): the road,
    without the bonnet. Equal to ``np.percentile`` (linear interpolation) on that sample."""
    h, w = frame.shape[:2]
    step = max(1, min(h, w) // 90)
    band = frame[int(top * h):max(int(top * h) + 1, int(bottom * h)):step, ::step]
    qs = (5.0, 95.0, 99.0)
    if band.dtype != np.uint8:
        grey = band.astype(np.float32)
        return np.percentile(grey.mean(-1) if grey.ndim == 3 else grey, qs)
    # this runs on every frame: order statistics from a histogram of the channel sums (integers
    # 0..765) instead of a float copy and a partition, several times faster at the same values
    channels = band.shape[2] if band.ndim == 3 else 1
    sums = band[..., 0].astype(np.uint16) if band.ndim == 3 else band
    for c in range(1, channels):        # one add per channel: numpy's sum over a
        sums += band[..., c]            # 3-long last axis is several times slower
    cum = np.cumsum(np.bincount(sums.ravel(), minlength=255 * channels + 1))
    pos = np.asarray(qs) / 100.0 * (cum[-1] - 1)
    lo = np.floor(pos)
    # the k-th smallest value (0-based) is the first level whose cumulative count exceeds k
    v_lo = np.searchsorted(cum, lo, side="right")
    v_hi = np.searchsorted(cum, np.ceil(pos), side="right")
    return (v_lo + (pos - lo) * (v_hi - v_lo)) / channels


def is_no_road(frame: np.ndarray, top: float = 0.0) -> bool:
    """True for a frame with nothing to see where the road should be (below ``top``).

    Two rules, each on the whole distribution of grey levels, never on its bulk alone:

    - dark: 99 % of the pixels under ``DARK_P99`` (lens cap, unlit tunnel; the darkest rendered
      night roads with lanes measure 53). A night frame is black around its low beams, but its
      lit road and lane paint put the 99th percentile far above that.
    - flat: the 5th to 99th percentiles within ``FLAT_SPREAD`` grey levels: one colour at any
      brightness, so nothing, paint included, stands out anywhere in the band. Sensor noise of
      sigma 2.5 spreads a blank frame over about 10 levels; real road frames spread over 100 or
      more, rendered ones (night, wet) over 59 or more. Not the 5th to 95th: on a night frame
      95 % of the pixels can be black, with the paint in the top few percent.

    Blown out is flat at the top of the range (clipping squeezes it further), so it needs no
    rule of its own. "95 % of the pixels above 225" alone is not used: a nearly white road
    (230) with paint on it (255) still shows 25 levels of contrast, real lanes to keep.
    """
    p5, _, p99 = frame_percentiles(frame, top)
    return bool(p99 < DARK_P99 or p99 - p5 < FLAT_SPREAD)


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
                ratio = (width / float(height)) / (size[0] / float(size[1]))
                same_shape = abs(ratio - 1.0) <= ASPECT_TOLERANCE
                self.static.append("calibration_size" if same_shape else "calibration_aspect")
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
