"""HeatmapOverlay: blends a dense score map (``HeatmapModel``) into frames, then draws the lanes.

Cell (i, j) of the map scores the window whose top-left corner is model-input pixel
``(i*sy, j*sx)``; it is drawn as a ``sy x sx`` block (bilinearly blended with its neighbours)
centred on that window's centre, mapped back through the resize and the crop to frame pixels.
The colour's opacity grows with the score, so low scores leave the frame untouched.
"""

from typing import Optional

import cv2
import numpy as np

__all__ = ["HeatmapOverlay", "cell_to_frame"]


def cell_to_frame(spec, frame_width: int, frame_height: int) -> np.ndarray:
    """2x3 affine matrix from map cell coordinates (j, i) to frame pixels (x, y) of the centre
    of the cell's window."""
    top, bottom = spec.crop_rows(frame_height)
    kx = frame_width / spec.input_width
    ky = (bottom - top) / spec.input_height
    (wh, ww), (sy, sx) = spec.window, spec.stride
    # input pixel p maps to frame (p + 0.5) * k - 0.5; a window's centre is at p = start + w/2 - 0.5
    return np.array([[sx * kx, 0.0, (ww / 2.0) * kx - 0.5],
                     [0.0, sy * ky, top + (wh / 2.0) * ky - 0.5]], np.float64)


class HeatmapOverlay:
    """An overlay (``draw(frame, result, hud)``) that adds a score heatmap under another overlay.

    Args:
        model: a ``lanecam.pipeline.heatmap.HeatmapModel`` for the frame size (opened on first use, in
            the drawing thread).
        inner: the overlay drawn on top (lanes, HUD), or None.
        alpha: opacity of a cell scoring 1.0.
        colormap: OpenCV colormap.

    The scratch buffers (score image, colours, weights) cover only the map's rectangle of the
    frame and are allocated once.
    """

    def __init__(self, model, inner=None, alpha: float = 0.6,
                 colormap: int = cv2.COLORMAP_JET):
        if not 0.0 < float(alpha) <= 1.0:
            from lanecam.pipeline.errors import InputError

            raise InputError(f"heatmap alpha: expected a value in (0, 1], got {alpha}")
        self.model = model
        self.inner = inner
        self.alpha = float(alpha)
        self.colormap = colormap
        self._rect = None

    def _layout(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        m = cell_to_frame(self.model.spec, w, h)
        rows, cols = self.model.spec.map_size()
        # the blocks of the outer cells reach half a cell beyond their centres
        x0 = int(np.floor(max(0.0, m[0, 2] - m[0, 0] / 2)))
        x1 = int(np.ceil(min(w, m[0, 2] + (cols - 0.5) * m[0, 0] + 1)))
        y0 = int(np.floor(max(0.0, m[1, 2] - m[1, 1] / 2)))
        y1 = int(np.ceil(min(h, m[1, 2] + (rows - 0.5) * m[1, 1] + 1)))
        self._m = m - np.array([[0, 0, x0], [0, 0, y0]], np.float64)
        self._rect = (x0, y0, x1, y1)
        self._size = (h, w)
        rh, rw = y1 - y0, x1 - x0
        self._heat = np.empty((rh, rw), np.float32)
        self._heat8 = np.empty((rh, rw), np.uint8)
        self._colors = np.empty((rh, rw, 3), np.uint8)
        self._w_color = np.empty((rh, rw), np.float32)
        self._w_frame = np.empty((rh, rw), np.float32)

    def draw(self, frame: np.ndarray, result=None, hud: Optional[dict] = None) -> np.ndarray:
        """Blend the heatmap of ``frame`` (computed from the frame as it is now) into it, then
        run the inner overlay. Returns the frame (modified in place)."""
        if self._rect is None or frame.shape[:2] != self._size:
            self._layout(frame)
        scores = self.model.scores(frame)
        x0, y0, x1, y1 = self._rect
        cv2.warpAffine(scores, self._m, (x1 - x0, y1 - y0), dst=self._heat,
                       flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        np.clip(self._heat, 0.0, 1.0, out=self._heat)
        np.multiply(self._heat, 255.0, out=self._w_color)
        self._heat8[...] = self._w_color  # float -> uint8 without a new array
        cv2.applyColorMap(self._heat8, self.colormap, dst=self._colors)
        np.multiply(self._heat, self.alpha, out=self._w_color)
        np.subtract(1.0, self._w_color, out=self._w_frame)
        roi = frame[y0:y1, x0:x1]
        roi[...] = cv2.blendLinear(self._colors, roi, self._w_color, self._w_frame)
        if self.inner is not None:
            self.inner.draw(frame, result, hud)
        return frame
