"""``--crop-top auto``: the model's horizon crop set from where the found ego lines meet.

The model sees the rows below ``spec.crop_top`` of each frame, resized to its input. The bundled
LaneFCN was trained on TuSimple's camera, whose ego lines meet at about 0.315 of the frame
height, with a crop of 0.30. A camera pitched down, or a stream cropped at the top, has its
vanishing point higher up; the 0.30 crop then cuts away the far road, and the rest reaches the
model magnified (on the validation drive cut to such a window, accuracy 0.775 against 0.936
with the crop moved up to match; ``benchmarks/horizon_crop.py``).

``AutoCrop`` (one per frame size) watches the ego lines the model finds and moves the crop so
that the vanishing point sits where it sat in training:

- each frame with both ego lines gives one estimate (``vanishing_share``): straight lines
  fitted to the nearer 60 % of L1 and R1, intersected;
- after ``min_frames`` estimates (out of the last ``window``), the crop becomes their median
  less ``MARGIN``, but only when that differs from the crop in use by more than ``hysteresis``
  and the estimates agree (their interquartile range at most ``max_spread``): a camera like
  TuSimple's keeps the model's own crop, so nothing changes where nothing needs to;
- the crop only ever moves up from the model's own, uncovering road it would cut away. A
  camera whose lines meet lower in the frame keeps the model's crop: the road is all there,
  and cropping closer would magnify it. Measured on the shared clips, whose lines meet near
  0.59 of the height: a crop moved down to 0.57 drew a false L2 in 26 % of the highway clip's
  frames, against 1.2 % at the model's 0.30;
- after a change the estimates start again (those found at the old crop are a little off),
  and the change takes effect ``AutoCrop.LAG`` frames later, so that a file's lanes do not
  depend on thread timing.

Estimates made at a wrong crop are still close: with the bundled model at crop 0.30, the
validation drive cut to a pitched-down window gave a median of 0.076 where the recorded frames
say 0.058, and a wide window 0.361 against 0.345. What the crop then does to the scores, on
that drive and on renderer drives: docs/usage.md, "Another camera".
"""

import math
import threading
from collections import deque
from typing import Optional, Union

import numpy as np

__all__ = ["AUTO", "MARGIN", "AutoCrop", "parse_crop_top", "vanishing_share"]

AUTO = "auto"
CROP_RANGE = (0.0, 0.8)       # what --crop-top accepts
# The bundled model's training frames: ego lines meeting at 0.315 of the height (median of the
# 33 validation-drive frames), crop 0.30: the crop sits this far above the vanishing point.
MARGIN = 0.015
NEAR_SHARE = 0.6              # the nearer part of each line is fitted: far ends bend on curves


def parse_crop_top(value) -> Union[float, str]:
    """A ``--crop-top`` value: a share of the frame height in [0, 0.8], or ``"auto"``.

    Raises ``ValueError`` whose text says what was expected (``options.option``'s ``parse``).
    """
    expected = (f"a share of the frame height between {CROP_RANGE[0]} and {CROP_RANGE[1]}, "
                f"or {AUTO}")
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    if isinstance(value, bool):
        raise ValueError(expected)
    try:
        share = float(value)
    except (TypeError, ValueError):
        raise ValueError(expected) from None
    if not math.isfinite(share):     # the words every float option uses for these
        raise ValueError("a finite number")
    if not CROP_RANGE[0] <= share <= CROP_RANGE[1]:
        raise ValueError(expected)
    return share


def _near_fit(points: np.ndarray) -> Optional[np.ndarray]:
    """(slope, intercept) of x = slope * y + intercept over the nearer part of a line."""
    if len(points) < 4:
        return None
    y0, y1 = float(points[0, 1]), float(points[-1, 1])
    if y1 - y0 < 8:
        return None
    near = points[points[:, 1] >= y0 + (1.0 - NEAR_SHARE) * (y1 - y0)]
    if len(near) < 3:
        return None
    return np.polyfit(near[:, 1].astype(np.float64), near[:, 0].astype(np.float64), 1)


def vanishing_share(result, height: int) -> Optional[float]:
    """The row where the frame's ego lines meet, as a share of ``height``; None without both
    ego lines or when they do not converge upwards (parallel, crossed: no estimate)."""
    left, right = result.lane("L1"), result.lane("R1")
    if left is None or right is None:
        return None
    fl, fr = _near_fit(left.points), _near_fit(right.points)
    if fl is None or fr is None:
        return None
    # going up the frame (y falling) L1 moves right (slope < 0) and R1 left (slope > 0)
    if not fl[0] < fr[0] - 0.05:
        return None
    y = (fr[1] - fl[1]) / (fl[0] - fr[0])
    share = y / float(height)
    # a meeting point far outside the frame is a misfit, not a camera
    return float(share) if -0.5 < share < 0.9 else None


class AutoCrop:
    """The crop of one frame size under ``--crop-top auto`` (see the module docstring).

    Frames are counted in the order they are preprocessed and, separately, in the order they
    are postprocessed (the same order: the pipeline keeps it). A change decided at the
    postprocessed frame ``n`` takes effect from the preprocessed frame ``n + LAG``. The frames
    between were preprocessed already, or may have been: in the threaded pipeline up to
    about seven frames are between the two steps at once (``core.build``, file mode). Where
    the crop changes is then a fact of the video, not of thread timing: a file gives the same
    lanes on every run. Only estimates from frames seen at the latest crop count.

    ``crop_for`` is read by the preprocess thread and ``observe`` called by the postprocess
    thread; the plan they share is one tuple, replaced whole.
    """

    LAG = 16

    def __init__(self, start: float, window: int = 30, min_frames: int = 10,
                 hysteresis: float = 0.05, max_spread: float = 0.08):
        """``start``: the model's own crop, also the largest this may choose."""
        self.start = float(start)
        self.window, self.min_frames = int(window), int(min_frames)
        self.hysteresis, self.max_spread = float(hysteresis), float(max_spread)
        self._estimates = deque(maxlen=self.window)
        self._lock = threading.Lock()
        self._plan = (self.start, self.start, 0)    # (old crop, new crop, first frame of new)
        self.changes = 0

    @property
    def latest(self) -> float:
        """The crop decided last (in effect now, or from a frame soon)."""
        return self._plan[1]

    def crop_for(self, index: int) -> float:
        """The crop of the ``index``-th preprocessed frame of this size (0, 1, 2 ...)."""
        old, new, first = self._plan
        return new if index >= first else old

    def observe(self, share: Optional[float], index: int, crop: float) -> Optional[float]:
        """Take the vanishing-point estimate of the ``index``-th postprocessed frame, found
        at ``crop`` (None: no estimate in that frame); returns the new crop when this
        estimate changed it (for frames from ``index + LAG`` on), else None."""
        if share is None or crop != self.latest:
            return None
        with self._lock:
            self._estimates.append(float(share))
            if len(self._estimates) < self.min_frames:
                return None
            values = np.asarray(self._estimates)
            q1, median, q3 = np.percentile(values, [25, 50, 75])
            if q3 - q1 > self.max_spread:
                return None
            target = float(np.clip(median - MARGIN, 0.0, self.start))
            if abs(target - self.latest) <= self.hysteresis:
                return None
            new = round(target, 3)
            self._plan = (self.latest, new, index + self.LAG)
            self.changes += 1
            self._estimates.clear()
            return new
