"""Training samples: road-renderer frames made on the fly, or a real dataset in TuSimple format
(CULane-format folders are converted to it: ``culane_to_tusimple``).

A sample is what the network sees and what it must answer, at model resolution:

- ``image``: (H, W, 3) uint8 RGB, the frame below the horizon crop resized to the model input
  (the runtime's ``Preprocessor`` does the same crop and resize, then scales to [0, 1]);
- ``seg``: (H/2, W/2) uint8, 0 background, i + 1 for lane slot i (L2, L1, R1, R2), ``IGNORE``
  (255) where nothing is known (outside the ego lines of a pseudo-labelled frame);
- ``exist``: (4,) float32, 1 where the slot has a line, 0 where it has none, -1 unknown.

Everything is numpy + OpenCV and picklable, so samples can be made in worker processes while
TensorFlow trains in the main one. A sample depends only on its integer seed: the same seed
gives the same sample in any process, which is what makes training reproducible and resumable.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.preprocess import area_resize
from lanecam.pipeline.safe_load import json_loads
from lanecam.tools.evaluate.tusimple import image_path
from lanecam.tools.train.augment import camera_warp, erase_line, warp_points, weather
from lanecam.tools.train.barriers import paste_barrier
from lanecam.tools.train.markings import paint_marking
from lanecam.tools.train.split import is_validation

__all__ = ["SampleMaker", "SyntheticSource", "TuSimpleSource", "flip_sample", "assign_slots",
           "night_transfer", "culane_to_tusimple", "Sample", "IGNORE", "SLOT_NAMES", "View",
           "ASPECT_RANGE"]

Sample = Tuple[np.ndarray, np.ndarray, np.ndarray]

# a horizontal flip mirrors the slots: L2 <-> R2, L1 <-> R1 (label values 1..4); every other
# value (the loss's IGNORE) stays as it is
_FLIP_LABELS = np.arange(256, dtype=np.uint8)
_FLIP_LABELS[:5] = [0, 4, 3, 2, 1]
IGNORE = 255            # seg pixels no loss looks at (lanecam.tools.train.losses.IGNORE)
SLOT_NAMES = ("L2", "L1", "R1", "R2")
# how much another camera's frame can be stretched against ours once cropped and resized to
# the model input (vertical over horizontal scale): a 4:3 frame is about 0.76, a 1640x590
# CULane frame about 1.59; ``SampleMaker.view_for`` draws in this range, log-uniform
ASPECT_RANGE = (0.72, 1.7)


@dataclass(frozen=True)
class View:
    """The window of a frame that a sample shows, as fractions of the frame cut off at each
    side (``top`` is the horizon crop). Resized to the model input, as the runtime does."""

    top: float
    bottom: float = 0.0
    left: float = 0.0
    right: float = 0.0

    def pixels(self, width: int, height: int) -> Tuple[int, int, int, int]:
        """x0, x1, y0, y1 of the window in frame pixels (x1, y1 exclusive)."""
        return (int(round(self.left * width)), width - int(round(self.right * width)),
                int(round(self.top * height)), height - int(round(self.bottom * height)))


def flip_sample(image: np.ndarray, seg: np.ndarray, exist: np.ndarray) -> Sample:
    """The mirror image of a sample, with the slots mirrored too."""
    return (np.ascontiguousarray(image[:, ::-1]), _FLIP_LABELS[seg[:, ::-1]],
            np.ascontiguousarray(exist[::-1]))


@dataclass(frozen=True)
class SampleMaker:
    """Shared sample geometry and augmentation.

    Args:
        spec: the model card (input size, crop).
        output_stride: model input size / seg output size (LaneFCN: 2).
        thickness: line width in output pixels of the seg labels.
        crop_jitter: the crop line moves by up to this fraction of the frame height, so that
            the network does not learn one horizon position.
        flip: mirror half of the samples.
        photometric: brightness / contrast / saturation / blur / noise jitter on top of what
            the renderer varies, so that no single colour statistic identifies "synthetic".
        aspect_jitter: share of samples shown through a window of another aspect ratio
            (``view_for``), as frames of other cameras reach the model: every training frame
            has one aspect. Tried with v7's recipe at 0.5 it did not make the model better on
            stretched frames (docs/model.md, "Other cameras' aspect ratios").
    """

    spec: ModelSpec
    output_stride: int = 2
    thickness: int = 2
    crop_jitter: float = 0.04
    flip: bool = True
    photometric: bool = True
    aspect_jitter: float = 0.0

    @property
    def seg_size(self) -> Tuple[int, int]:
        return (self.spec.input_height // self.output_stride,
                self.spec.input_width // self.output_stride)

    def crop_for(self, rng: np.random.Generator) -> float:
        """A training crop_top around the spec's."""
        j = self.crop_jitter
        return float(np.clip(self.spec.crop_top + rng.uniform(-j, j), 0.0, 0.9))

    def view_for(self, rng: Optional[np.random.Generator], crop_top: float) -> View:
        """The window of a sample's frame: below ``crop_top`` to the spec's bottom crop, the
        full width; with ``aspect_jitter`` (and ``rng``), in that share of samples the window
        has another aspect ratio, drawn from ``ASPECT_RANGE``.

        A stretch r > 1 (a wide frame, lanes look steeper) keeps the top 1/r of the rows, so
        the far road and the horizon stay where they were; r < 1 (a narrow frame, lanes look
        flatter) keeps the middle r of the columns, where the ego lane is. Draws nothing when
        ``aspect_jitter`` is 0, so earlier recipes' samples stay what they were."""
        bottom = self.spec.crop_bottom
        if rng is None or self.aspect_jitter <= 0 or rng.random() >= self.aspect_jitter:
            return View(crop_top, bottom)
        lo, hi = ASPECT_RANGE
        r = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        if r >= 1.0:
            keep = (1.0 - crop_top - bottom) / r
            return View(crop_top, 1.0 - crop_top - keep)
        side = (1.0 - r) / 2.0
        return View(crop_top, bottom, side, side)

    def image(self, frame_bgr: np.ndarray, crop_top: float, view: Optional[View] = None
              ) -> np.ndarray:
        """Crop below ``crop_top`` (or to ``view``) and resize to the model input, RGB uint8."""
        h, w = frame_bgr.shape[:2]
        view = View(crop_top, self.spec.crop_bottom) if view is None else view
        x0, x1, y0, y1 = view.pixels(w, h)
        # the runtime's resize (pipeline.preprocess), so the model sees in training what it sees
        img = area_resize(frame_bgr[y0:y1, x0:x1], self.spec.input_width,
                          self.spec.input_height)
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def augment(self, sample: Sample, rng: np.random.Generator) -> Sample:
        image, seg, exist = sample
        if self.photometric:
            image = _photometric(image, rng)
        if self.flip and rng.random() < 0.5:
            image, seg, exist = flip_sample(image, seg, exist)
        return image, seg, exist


def _photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = image.astype(np.float32)
    if rng.random() < 0.8:  # contrast and brightness
        mean = img.mean()
        img = (img - mean) * rng.uniform(0.7, 1.3) + mean + rng.uniform(-25, 25)
    if rng.random() < 0.5:  # saturation: blend with grey
        grey = img.mean(axis=2, keepdims=True)
        img = grey + (img - grey) * rng.uniform(0.4, 1.4)
    if rng.random() < 0.3:  # white balance
        img = img * rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    if rng.random() < 0.2:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.0))
    if rng.random() < 0.3:
        img = img + rng.normal(0, rng.uniform(2, 7), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def night_transfer(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A daylight road image (RGB uint8, the model input) made to look like night under the
    car's own headlights; the lanes stay where they are, so a label stays valid.

    Why: every real frame here is daylight, and the renderer's night is a renderer's. Paint is
    brighter than asphalt by day and stays brighter under any monotone darkening, so a real
    frame darkened this way is a real texture at night with a label that still holds. Steps: a
    strong gamma and gain (the ambient light gone), a headlight pool bright near the bottom
    centre and falling off with distance ahead and sideways, a colour cast (sodium orange or
    cool LED), a few glare spots above the road (street lights, oncoming headlights) and the
    sensor noise of a high gain.
    """
    h, w = image.shape[:2]
    img = (image.astype(np.float32) / 255.0) ** rng.uniform(1.6, 2.6) * rng.uniform(0.35, 0.7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx = w * rng.uniform(0.42, 0.58)
    reach = h * rng.uniform(0.45, 0.9)           # how far up the frame the beams carry
    spread = w * rng.uniform(0.25, 0.45)
    pool = np.exp(-((xx - cx) / (spread * (0.4 + (h - yy) / h))) ** 2 - ((h - yy) / reach) ** 2)
    ambient = rng.uniform(0.05, 0.35)
    img *= (ambient + (1.0 - ambient) * rng.uniform(1.2, 2.0) * pool)[..., None]
    if rng.random() < 0.5:                       # sodium street lights: orange; else cool LED
        cast = np.array([1.15, 0.9, 0.55], np.float32)
    else:
        cast = np.array([0.85, 0.95, 1.15], np.float32)
    img *= cast * rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    for _ in range(int(rng.integers(0, 4))):      # glare: bright spots above the road
        gx, gy = rng.uniform(0, w), rng.uniform(0, 0.45 * h)
        r = rng.uniform(2.0, 8.0)
        img += rng.uniform(0.5, 1.0) * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2)
                                              / (2 * r * r))[..., None]
    img += rng.normal(0.0, rng.uniform(0.01, 0.035), img.shape).astype(np.float32)
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class SyntheticSource:
    """Samples from ``lanecam.pipeline.roadsim.random_frame``: one independent scene per seed.

    Frames are rendered at ``render_size`` (640x360 by default: at the 320x128 model input a
    1280x720 render would be downscaled 4x and look the same, at 2x the cost), from the scene
    distribution ``mix`` (a name of ``lanecam.pipeline.roadsim.mix.MIXES``).
    """

    def __init__(self, maker: SampleMaker, render_size: Tuple[int, int] = (640, 360),
                 mix: str = "v2"):
        from lanecam.pipeline.roadsim.mix import mix_named

        self.maker = maker
        self.render_size = render_size
        self.mix = mix_named(mix)

    def __call__(self, seed: int, augment: bool = True) -> Sample:
        from lanecam.pipeline.roadsim import random_frame

        rng = np.random.default_rng([int(seed), 7])
        frame, gt = random_frame(int(seed), *self.render_size, mix=self.mix)
        m = self.maker
        crop = m.crop_for(rng) if augment else m.spec.crop_top
        view = m.view_for(rng if augment else None, crop)
        sh, sw = m.seg_size
        seg = gt.slot_mask(sh, sw, thickness=m.thickness, crop_top=view.top,
                           crop_bottom=view.bottom, crop_left=view.left,
                           crop_right=view.right)
        sample = (m.image(frame, crop, view), seg, _exist_from(seg, gt.exists))
        return m.augment(sample, rng) if augment else sample


def culane_to_tusimple(folders: Sequence[Path], out: Path, step: int = 10) -> Path:
    """Write the frames of CULane-format ``folders`` (``NAME.jpg`` + ``NAME.lines.txt``,
    searched recursively) as TuSimple label rows into ``out`` and return it.

    A CULane lane is a list of (x, y) points; TuSimple's form samples every lane on one list of
    rows. The rows here are every ``step`` px over all the frame's lanes (from the highest point
    down to the lowest), each lane's x interpolated along its points between its own ends and -2
    elsewhere. ``raw_file`` is the image's absolute path, so the rows need no image root (a
    relative root joined with an absolute path is that path). Slots are then assigned by
    position, as for TuSimple rows (``assign_slots``). Lanes of fewer than 2 points are left
    out; a frame with no lane is kept (a road with no line is a label too).
    """
    from lanecam.tools.evaluate.culane import list_culane, read_lines_txt

    from lanecam.pipeline.outputs import write_atomic

    rows = []
    for folder in folders:
        for image, labels in list_culane(folder):
            lanes = []
            for pts in read_lines_txt(labels):
                if len(pts) < 2:
                    continue
                pts = pts[np.argsort(pts[:, 1], kind="stable")]
                lanes.append(pts)
            if lanes:
                top = int(np.floor(min(p[0, 1] for p in lanes) / step)) * step
                bottom = int(np.ceil(max(p[-1, 1] for p in lanes)))
                ys = np.arange(max(top, 0), bottom + 1, step, dtype=np.float64)
            else:
                ys = np.zeros(0)
            xs = []
            for pts in lanes:
                inside = (ys >= pts[0, 1]) & (ys <= pts[-1, 1])
                x = np.interp(ys, pts[:, 1], pts[:, 0])
                xs.append([round(float(v), 1) if ok and v >= 0 else -2 for v, ok in zip(x, inside)])
            rows.append({"raw_file": str(Path(image).resolve()),
                         "h_samples": ys.astype(int).tolist(), "lanes": xs})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, "".join(json.dumps(r) + "\n" for r in rows), "--culane")
    return out


def _exist_from(seg: np.ndarray, exists: np.ndarray) -> np.ndarray:
    """A slot exists for training when its line is in the frame and visible below the crop:
    a line entirely above the crop cannot be seen by the network."""
    present = np.array([(seg == i + 1).any() for i in range(len(exists))])
    return (np.asarray(exists, bool) & present).astype(np.float32)


def assign_slots(lanes: Sequence[Sequence[float]], h_samples: Sequence[int],
                 width: int, height: int) -> List[Tuple[int, np.ndarray]]:
    """Slot indices (0..3 for L2, L1, R1, R2) of unordered TuSimple lanes.

    A lane's position is its x extrapolated (linear fit over its lowest points) to the bottom
    row; lanes left of the image centre are L1, L2 going outwards, right ones R1, R2. Lanes
    beyond the second on a side are not labelled. Returns (slot, points (N, 2) x, y) pairs.
    """
    sides = {"left": [], "right": []}
    for xs in lanes:
        xs = np.asarray(xs, np.float64)
        ys = np.asarray(h_samples, np.float64)
        keep = xs >= 0
        if keep.sum() < 2:
            continue
        pts = np.stack([xs[keep], ys[keep]], axis=1)
        low = pts[np.argsort(pts[:, 1])[-min(len(pts), 8):]]
        if np.ptp(low[:, 1]) > 0:
            a, b = np.polyfit(low[:, 1], low[:, 0], 1)
            x_bottom = a * (height - 1) + b
        else:
            x_bottom = low[-1, 0]
        sides["left" if x_bottom < width / 2 else "right"].append((x_bottom, pts))
    out = []
    left = sorted(sides["left"], key=lambda t: -t[0])[:2]    # nearest the centre first
    right = sorted(sides["right"], key=lambda t: t[0])[:2]
    for i, (_, pts) in enumerate(left):
        out.append((1 - i, pts))      # L1 = 1, L2 = 0
    for i, (_, pts) in enumerate(right):
        out.append((2 + i, pts))      # R1 = 2, R2 = 3
    return out


class TuSimpleSource:
    """Samples from a labelled dataset in TuSimple format: label JSON lines (``raw_file``,
    ``lanes``, ``h_samples``) and the image root the ``raw_file`` paths are relative to.

    Rows may also carry ``slots`` (the slot name of each lane, instead of assigning slots by
    position) and ``trusted: "ego"`` (only L1 and R1 are known: everything outside them is
    IGNORE and the L2/R2 existence unknown), optionally with ``absent`` (outer slots known to be
    empty: that side is background, the slot's existence 0); ``pseudo.pseudo_label_videos``
    writes such rows.
    Sample ``seed`` uses row ``rng(seed)``: any row in any epoch, reproducibly. ``night``:
    the share of (augmented) samples passed through ``night_transfer``. ``strong``: augmented
    samples also get ``augment.camera_warp`` (label points moved with the frame) and
    ``augment.weather`` (the real labelled frames: few drives, one camera). ``skip_validation``:
    leave out the rows of ``split.VALIDATION_SETS`` (they choose models; never trained on).
    ``erase_outer``: the share of augmented samples of position-labelled rows (not the
    teacher's) that get one of their outer lines painted out (``augment.erase_line``) and that
    slot labelled absent. ``barriers``: the share of those erased lines that get a roadside
    wall or guardrail standing where the paint was (``barriers.paste_barrier``), still labelled
    absent. ``markings``: the share of augmented samples of position-labelled rows that get a
    road marking which is not a lane line (arrow, crosswalk, ...: ``markings.paint_marking``)
    painted on their road, the labels unchanged.

    A label file is data, maybe from elsewhere: every ``raw_file`` must be a path inside
    ``root`` (``tusimple.image_path``), never an absolute path or one climbing out with ``..``.
    ``own_labels`` are label files lanecam wrote itself (``culane_to_tusimple``), whose
    absolute image paths are allowed."""

    def __init__(self, maker: SampleMaker, labels: Sequence[Path], root: Path,
                 night: float = 0.0, strong: bool = False, skip_validation: bool = False,
                 own_labels: Sequence[Path] = (), erase_outer: float = 0.0,
                 barriers: float = 0.0, markings: float = 0.0):
        self.maker = maker
        self.markings = float(markings)
        self.erase_outer = float(erase_outer)
        self.barriers = float(barriers)
        own = {Path(p).resolve() for p in own_labels}
        self.root = Path(root)
        self.night = float(night)
        self.strong = bool(strong)
        self.rows = []
        for path in labels:
            path = Path(path)
            if not path.is_file():
                raise InputError(f"{path}: TuSimple label file not found")
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: cannot read this TuSimple label file "
                                 f"({type(exc).__name__}: {exc})") from None
            for n, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json_loads(line, f"{path}: line {n}")
                    row["raw_file"], row["lanes"], row["h_samples"]
                except (ValueError, KeyError, TypeError):
                    raise InputError(f"{path}: line {n}: expected a JSON object with raw_file, "
                                     f"lanes and h_samples (TuSimple label format)") from None
                if path.resolve() not in own:  # nothing outside the root is ever opened
                    image_path(self.root, row["raw_file"], f"{path}: line {n}")
                # checked here, in the parent: a bad value would otherwise surface as a
                # traceback from a sample worker of the pool, or be drawn as garbage
                _check_row(row, f"{path}: line {n}")
                if skip_validation and is_validation(row["raw_file"]):
                    continue    # held out for choosing (tools/train/split.py)
                self.rows.append(row)
        if not self.rows:
            raise InputError(f"{', '.join(map(str, labels))}: no labelled frames")
        missing = [r["raw_file"] for r in self.rows if not (self.root / r["raw_file"]).is_file()]
        if missing:
            raise InputError(f"{self.root}: {len(missing)} labelled images not found, e.g. "
                             f"{missing[0]!r} (is --tusimple-root the folder the raw_file paths "
                             f"are relative to?)")
        if not any(x >= 0 and y >= 0 for r in self.rows for lane in r["lanes"]
                   for x, y in zip(lane, r["h_samples"])):
            # every x is -2 (no lane) or every row above the image: training would learn "no
            # lanes anywhere" from these frames, certainly not what the file was meant to say
            raise InputError(f"{', '.join(map(str, labels))}: no lane point in any labelled "
                             f"frame (expected x >= 0 at h_samples rows >= 0)")

    def __len__(self) -> int:
        return len(self.rows)

    def __call__(self, seed: int, augment: bool = True) -> Sample:
        rng = np.random.default_rng([int(seed), 11])
        # drawn, not seed % len: consecutive seeds would walk a window of consecutive rows
        # (neighbouring video frames) that never moves when len divides the epoch stride
        row = self.rows[int(rng.integers(len(self.rows)))]
        frame = cv2.imread(str(self.root / row["raw_file"]), cv2.IMREAD_COLOR)
        if frame is None:
            raise InputError(f"{self.root / row['raw_file']}: not a readable image")
        m = self.maker
        h, w = frame.shape[:2]
        if "slots" in row:   # a pseudo-labelled frame: slots named by the teacher
            lanes = [(SLOT_NAMES.index(name), _points(xs, row["h_samples"]))
                     for name, xs in zip(row["slots"], row["lanes"])]
        else:
            lanes = assign_slots(row["lanes"], row["h_samples"], w, h)
        # no draw at all when off: the recorded recipes' samples stay what they were
        erase = (self.erase_outer > 0 and augment and "slots" not in row
                 and rng.random() < self.erase_outer)
        outer = [i for i, (slot, _) in enumerate(lanes) if slot in (0, 3)]
        if erase and outer:
            i = outer[int(rng.integers(len(outer)))]
            frame = erase_line(frame, lanes[i][1], rng)
            slot, pts = lanes[i]
            ego = dict(lanes).get(1 if slot == 0 else 2)
            # no draw when off, as for the erasing: earlier recipes' samples stay the same
            if self.barriers > 0 and ego is not None and rng.random() < self.barriers:
                frame = paste_barrier(frame, pts, ego, -1 if slot == 0 else 1, rng)
            lanes = lanes[:i] + lanes[i + 1:]   # the slot is now background, existence 0
        # no draw when off, as above
        if (self.markings > 0 and augment and "slots" not in row
                and rng.random() < self.markings):
            ego = dict(lanes)
            if 1 in ego and 2 in ego:
                frame = paint_marking(frame, ego[1], ego[2], rng)
        warp = None
        if augment and self.strong and rng.random() < 0.8:
            frame, warp = camera_warp(frame, rng)
        crop = m.crop_for(rng) if augment else m.spec.crop_top
        view = m.view_for(rng if augment else None, crop)
        sh, sw = m.seg_size
        seg = np.zeros((sh, sw), np.uint8)
        exist = np.zeros(4, np.float32)
        # the window's edges as fractions of the frame, as ``GroundTruth.slot_mask`` maps them
        x0, y0 = view.left * w, view.top * h
        sx = sw / ((1.0 - view.left - view.right) * w)
        sy = sh / ((1.0 - view.top - view.bottom) * h)

        def to_seg(pts):
            p = np.empty_like(pts, dtype=np.float64)
            p[:, 0] = (pts[:, 0] - x0 + 0.5) * sx - 0.5
            p[:, 1] = (pts[:, 1] - y0 + 0.5) * sy - 0.5
            return p

        if warp is not None:   # slots were assigned on the camera's own view, then moved
            lanes = [(slot, warp_points(pts, warp)) for slot, pts in lanes]
        drawn = []
        for slot, pts in lanes:
            p = to_seg(pts)
            drawn.append((slot, p))
            cv2.polylines(seg, [np.round(p * 16).astype(np.int32).reshape(-1, 1, 2)], False,
                          slot + 1, m.thickness, cv2.LINE_8, 4)
            exist[slot] = float((seg == slot + 1).any())
        trusted = row.get("trusted")
        if trusted in ("ego", "listed"):
            # the teacher is trusted on the lines it lists only (the ego lines, and for "listed"
            # the outer ones it was sure and steady about): outside them nothing is known
            by_slot = dict(drawn)
            if trusted == "ego":
                by_slot = {k: v for k, v in by_slot.items() if k in (1, 2)}
            # an outer slot the teacher steadily saw nothing in ("absent") is known empty: no
            # L2 (R2) means nothing left of L1 (right of R1) is a line, so that side is
            # background out to the frame's border and the slot's existence is 0
            absent = {SLOT_NAMES.index(name) for name in row.get("absent", ())} - set(by_slot)
            seg = _ignore_outside(seg, by_slot, margin=2 * m.thickness + 2,
                                  open_left=0 in absent, open_right=3 in absent)
            for slot in (0, 3):
                if slot not in by_slot:
                    exist[slot] = 0.0 if slot in absent else -1.0
        image = m.image(frame, crop, view)
        if augment and self.strong:
            image = weather(image, rng, night=max(self.night, 0.15))
        elif augment and self.night and rng.random() < self.night:
            image = night_transfer(image, rng)
        sample = (image, seg, exist)
        return m.augment(sample, rng) if augment else sample


def _check_row(row: dict, where: str) -> None:
    """A training label row: the TuSimple checks shared with ``lanecam evaluate``, and the
    slot names of a pseudo-labelled row (one known slot per lane)."""
    from lanecam.tools.evaluate.label_rows import label_row

    label_row(row, where)
    for key, count in (("slots", len(row["lanes"])), ("absent", None)):
        names = row.get(key)
        if names is None:
            continue
        if (not isinstance(names, list) or any(n not in SLOT_NAMES for n in names)
                or (count is not None and len(names) != count)):
            one_per_lane = " (one per lane)" if count is not None else ""
            raise InputError(f"{where}: {key}: expected a list of slot names "
                             f"({', '.join(SLOT_NAMES)}){one_per_lane}, got {names!r}")


def _points(xs, h_samples) -> np.ndarray:
    """(N, 2) x, y of one TuSimple lane row (x < 0: no point)."""
    xs = np.asarray(xs, np.float64)
    ys = np.asarray(h_samples, np.float64)
    keep = xs >= 0
    return np.stack([xs[keep], ys[keep]], axis=1)


def _ignore_outside(seg: np.ndarray, lanes: dict, margin: int, open_left: bool = False,
                    open_right: bool = False) -> np.ndarray:
    """Keep the seg labels only between the outermost trusted lines of each row and mark
    everything else IGNORE. ``lanes``: slot index (0 L2, 1 L1, 2 R1, 3 R2) -> (N, 2) x, y seg
    points. A row is known when both ego lines cover it; its bounds are the outer line where
    that one covers the row, else the ego line (``margin`` pixels beyond it). ``open_left`` /
    ``open_right``: that side of a known row is known out to the border (no line there)."""
    out = np.full_like(seg, IGNORE)
    left, right = lanes.get(1), lanes.get(2)
    if left is None or right is None or len(left) < 2 or len(right) < 2:
        return out
    rows = np.arange(seg.shape[0], dtype=np.float64)
    lo = max(left[:, 1].min(), right[:, 1].min())
    hi = min(left[:, 1].max(), right[:, 1].max())

    def by_y(pts):   # sorted once, for np.interp on every row
        return None if pts is None or len(pts) < 2 else pts[np.argsort(pts[:, 1])]

    def x_at(pts, r):
        return float(np.interp(r, pts[:, 1], pts[:, 0]))

    def covers(pts, r):
        return pts is not None and pts[0, 1] <= r <= pts[-1, 1]

    left, right = by_y(left), by_y(right)
    outer_left, outer_right = by_y(lanes.get(0)), by_y(lanes.get(3))
    for r in rows[(rows >= lo) & (rows <= hi)].astype(int):
        xl = x_at(outer_left if covers(outer_left, r) else left, r)
        xr = x_at(outer_right if covers(outer_right, r) else right, r)
        a = 0 if open_left else max(0, int(np.floor(xl)) - margin)
        b = seg.shape[1] if open_right else min(seg.shape[1], int(np.ceil(xr)) + margin + 1)
        if a < b:
            out[r, a:b] = seg[r, a:b]
    return out
