"""Frames to model input tensors, as the ModelSpec says, into preallocated buffers.

Order (``lanecam.engines.modelspec``): optional undistortion (``cv2.remap`` with a calibration
profile's maps), crop to the spec's rows, resize to the model input, colour order, then
``(pixel * scale - mean) / std`` per channel in the spec's layout. Every intermediate buffer is
allocated once in ``__init__``; OpenCV and numpy do the work without the GIL.
"""

from typing import Optional, Tuple

import cv2
import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError

__all__ = ["Preprocessor", "halving_sizes", "area_resize"]


def halving_sizes(width: int, height: int, out_width: int, out_height: int):
    """Sizes of the exact 2x reductions worth making before an INTER_AREA resize.

    OpenCV's INTER_AREA takes a fast path for exact integer factors and a slow generic one for
    others (720p rows cropped to 504 and shrunk to 128 are a 3.94x factor). Each halving is the
    fast 2x2-average path; halving while the image stays at least twice the target leaves one
    small non-integer step. The result differs slightly from a one-step INTER_AREA resize
    (timings and the size of the difference: ``docs/performance.md``).

    Returns the (width, height) after each halving, in order; empty when none is worth making.
    """
    sizes = []
    while (width % 2 == 0 and height % 2 == 0 and width >= 2 * out_width
           and height >= 2 * out_height):
        width, height = width // 2, height // 2
        sizes.append((width, height))
    return sizes


def area_resize(image: np.ndarray, out_width: int, out_height: int,
                dst: Optional[np.ndarray] = None, scratch=None) -> np.ndarray:
    """INTER_AREA resize through exact halvings (``halving_sizes``); returns ``dst``.

    ``scratch``: preallocated arrays for the halved images, one per ``halving_sizes`` entry for
    this image size (so a caller per frame allocates and computes nothing); None allocates them.
    """
    if scratch is None:
        scratch = [np.empty((h, w) + image.shape[2:], image.dtype) for w, h in
                   halving_sizes(image.shape[1], image.shape[0], out_width, out_height)]
    for half in scratch:
        image = cv2.resize(image, (half.shape[1], half.shape[0]), dst=half,
                           interpolation=cv2.INTER_AREA)
    return cv2.resize(image, (out_width, out_height), dst=dst, interpolation=cv2.INTER_AREA)


class Preprocessor:
    """Turns BGR frames of one size into the model's input tensor.

    Args:
        spec: the model card.
        frame_width, frame_height: size of the frames it will be given.
        undistort_maps: ``(map1, map2)`` for ``cv2.remap`` at the frame size (from
            ``lanecam.calibration.Profile.undistort_maps``), or None.
        interpolation: OpenCV resize interpolation; INTER_AREA by default (downscaling
            without aliasing, like the training data).

    ``pre(frame)`` writes into the preprocessor's own tensor and returns it (overwritten by
    the next call); ``pre(frame, out=t)`` writes into ``t`` (shape ``spec.input_shape``), which
    is how the pipeline fills one pooled tensor per in-flight frame. Not thread-safe (one per
    stage: the intermediate buffers are shared between calls).
    """

    def __init__(self, spec: ModelSpec, frame_width: int, frame_height: int,
                 undistort_maps: Optional[Tuple[np.ndarray, np.ndarray]] = None,
                 interpolation: int = cv2.INTER_AREA):
        for name, val in (("frame_width", frame_width), ("frame_height", frame_height)):
            if not isinstance(val, (int, np.integer)) or val < 8:
                raise InputError(f"preprocess: {name} must be an integer >= 8, got {val!r}")
        self.spec = spec
        self.frame_width, self.frame_height = int(frame_width), int(frame_height)
        self.top, self.bottom = spec.crop_rows(self.frame_height)
        self.interpolation = interpolation
        self.maps = None
        self._undistorted = None
        if undistort_maps is not None:
            m1, m2 = undistort_maps
            if m1.shape[:2] != (self.frame_height, self.frame_width):
                raise InputError(f"undistortion maps: expected {self.frame_width}x"
                                 f"{self.frame_height} (the frame size), got "
                                 f"{m1.shape[1]}x{m1.shape[0]}")
            self.maps = (m1, m2)
            self._undistorted = np.empty((self.frame_height, self.frame_width, 3), np.uint8)
        h, w = spec.input_height, spec.input_width
        self._halved = []
        if interpolation == cv2.INTER_AREA:
            self._halved = [np.empty((hh, ww, 3), np.uint8) for ww, hh in
                            halving_sizes(self.frame_width, self.bottom - self.top, w, h)]
        self._resized = np.empty((h, w, 3), np.uint8)
        self._colored = np.empty((h, w, 3), np.uint8) if spec.color == "rgb" else self._resized
        # (pixel * scale - mean) / std == pixel * a + b, per channel
        std = np.asarray(spec.std, np.float32)
        self._a = (spec.scale / std).astype(np.float32)
        self._b = (-np.asarray(spec.mean, np.float32) / std).astype(np.float32)
        # the same as OpenCV scalars, for the NHWC float32 path
        self._scale4 = tuple(float(v) for v in self._a) + (0.0,)
        self._offset4 = tuple(float(v) for v in self._b) + (0.0,) if self._b.any() else None
        if spec.layout == "NCHW":
            self._a, self._b = self._a[:, None, None], self._b[:, None, None]
        self.tensor = np.empty(spec.input_shape, np.dtype(spec.dtype))

    def __call__(self, frame: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Preprocess one BGR uint8 frame into ``out`` (or the own tensor); returns it."""
        if frame.shape != (self.frame_height, self.frame_width, 3):
            raise InputError(f"preprocess: expected a {self.frame_width}x{self.frame_height} BGR "
                             f"frame, got shape {frame.shape}")
        out = self.tensor if out is None else out
        if out.shape != self.tensor.shape or out.dtype != self.tensor.dtype:
            raise InputError(f"preprocess: out must be {self.tensor.dtype} {self.tensor.shape}, "
                             f"got {out.dtype} {out.shape}")
        if self.maps is not None:
            cv2.remap(frame, self.maps[0], self.maps[1], cv2.INTER_LINEAR,
                      dst=self._undistorted, borderMode=cv2.BORDER_CONSTANT)
            frame = self._undistorted
        if self.interpolation == cv2.INTER_AREA:
            area_resize(frame[self.top:self.bottom], self.spec.input_width,
                        self.spec.input_height, dst=self._resized, scratch=self._halved)
        else:
            cv2.resize(frame[self.top:self.bottom], (self.spec.input_width,
                       self.spec.input_height), dst=self._resized, interpolation=self.interpolation)
        if self.spec.color == "rgb":
            cv2.cvtColor(self._resized, cv2.COLOR_BGR2RGB, dst=self._colored)
        pixels = self._colored if self.spec.layout == "NHWC" else self._colored.transpose(2, 0, 1)
        if out.dtype == np.uint8:
            # a uint8 model normalises inside its graph: hand it the raw pixels
            np.copyto(out[0], pixels)
        elif self.spec.layout == "NHWC" and out.dtype == np.float32 and out[0].flags.c_contiguous:
            # OpenCV's per-channel multiply and add are several times faster than the numpy
            # broadcasts (docs/performance.md) and give the same float32 values
            cv2.multiply(pixels, self._scale4, dst=out[0], dtype=cv2.CV_32F)
            if self._offset4 is not None:
                cv2.add(out[0], self._offset4, dst=out[0])
        else:
            np.multiply(pixels, self._a, out=out[0], casting="unsafe")
            np.add(out[0], self._b, out=out[0])
        return out

    @property
    def undistorted_frame(self) -> Optional[np.ndarray]:
        """The last undistorted frame (when maps are set), e.g. to draw on."""
        return self._undistorted
