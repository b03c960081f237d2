"""Contact sheet: predicted lanes (slot colours) and ground truth (thin white) on real frames."""

from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes import LaneResult
from lanecam.pipeline.outputs import write_atomic
from lanecam.pipeline.overlay import Overlay

__all__ = ["draw_ground_truth", "render_tile", "write_contact_sheet"]

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_ground_truth(frame: np.ndarray, lanes: Sequence[Sequence[int]], h_samples: Sequence[int],
                      thickness: int = 2) -> None:
    """Draw TuSimple GT lanes (x per row, negative = none) as thin white polylines, in place."""
    ys = np.asarray(h_samples, np.int32)
    for xs in lanes:
        xs = np.asarray(xs, np.int32)
        ok = xs >= 0
        if np.count_nonzero(ok) >= 2:
            pts = np.stack([xs[ok], ys[ok]], 1).reshape(-1, 1, 2)
            cv2.polylines(frame, [pts], False, (255, 255, 255), thickness, cv2.LINE_AA)


def render_tile(frame: np.ndarray, result: Optional[LaneResult], label: str, tile_width: int,
                overlay: Overlay, gt_lanes=None, h_samples=None) -> np.ndarray:
    """A downscaled copy of ``frame`` with the prediction (and GT) drawn and ``label`` on top."""
    img = frame.copy()
    if result is not None:
        # lines about 2.5 px wide once the tile is downscaled
        overlay.line_thickness = max(2, round(2.5 * img.shape[1] / tile_width))
        overlay.draw(img, result, None)
    if gt_lanes is not None:
        draw_ground_truth(img, gt_lanes, h_samples, thickness=max(1, round(img.shape[1] / tile_width)))
    h, w = img.shape[:2]
    tile = cv2.resize(img, (tile_width, max(1, round(h * tile_width / w))), interpolation=cv2.INTER_AREA)
    scale = max(0.4, tile_width / 900)
    (tw, th), base = cv2.getTextSize(label, _FONT, scale, 1)
    tile[: th + base + 6, : tw + 8] //= 3
    cv2.putText(tile, label, (4, th + 3), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def write_contact_sheet(tiles: List[np.ndarray], path, columns: int = 4) -> Tuple[int, int]:
    """Tile the images (all the same width) row by row on a dark background and write a PNG.

    Returns the sheet's (width, height).
    """
    if not tiles:
        raise InputError(f"{path}: nothing to put on the contact sheet (no frames evaluated)")
    tw = tiles[0].shape[1]
    th = max(t.shape[0] for t in tiles)
    columns = max(1, min(columns, len(tiles)))
    rows = (len(tiles) + columns - 1) // columns
    gap = 4
    sheet = np.full((rows * (th + gap) - gap, columns * (tw + gap) - gap, 3), 32, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        y, x = r * (th + gap), c * (tw + gap)
        sheet[y:y + tile.shape[0], x:x + tile.shape[1]] = tile
    path = Path(path)
    try:
        ok, png = cv2.imencode(path.suffix or ".png", sheet)
    except cv2.error:  # an extension OpenCV has no encoder for
        ok = False
    if not ok:
        raise InputError(f"{path}: could not encode the contact sheet (expected a .png path)")
    write_atomic(path, png.tobytes(), "--sheet")  # never a half sheet under the final name
    return sheet.shape[1], sheet.shape[0]
