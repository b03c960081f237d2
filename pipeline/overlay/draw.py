"""Drawing a ``LaneResult`` onto a BGR frame in place with OpenCV."""

import math
from typing import Dict, Optional

import cv2
import numpy as np

from lanecam.pipeline.lanes.result import LaneResult

__all__ = ["Overlay", "SLOT_COLORS", "EGO_COLOR", "WARNING_COLOR"]

# BGR, chosen to stay apart from each other and from asphalt, grass and white/yellow paint
SLOT_COLORS: Dict[str, tuple] = {
    "L2": (255, 128, 0),    # blue
    "L1": (255, 0, 255),    # magenta
    "R1": (0, 200, 255),    # amber
    "R2": (0, 64, 255),     # orange-red
}
_OTHER_COLOR = (200, 200, 200)
EGO_COLOR = (0, 200, 0)
WARNING_COLOR = (0, 0, 220)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


class Overlay:
    """Draws lanes, the ego lane and a HUD into frames (one instance per drawing thread).

    Args:
        show_hud: draw the text HUD (FPS, latency, drops, engine, geometry).
        ego_alpha: opacity of the ego-lane fill.
        show_ego: fill the ego-lane polygon.
        thickness: lane line thickness in px; None scales it with the frame (4 px at 720p).

    ``draw`` keeps one scratch buffer the size of the frame and reuses it.
    """

    def __init__(self, show_hud: bool = True, ego_alpha: float = 0.3, show_ego: bool = True,
                 thickness: Optional[int] = None):
        self.show_hud = show_hud
        self.line_thickness = thickness
        self.ego_alpha = float(ego_alpha)
        self.show_ego = show_ego
        self._scratch: Optional[np.ndarray] = None
        self._size = None
        self._thickness = 2
        self._font_scale = 0.5
        self._line_h = 18

    def _resize(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        self._size = (h, w)
        self._scratch = np.empty_like(frame)
        # about 4 px at 720p, never thinner than 2 px
        self._thickness = max(2, int(round(min(h, w) / 180)))
        self._font_scale = max(0.4, min(h, w) / 1100)
        (_, th), base = cv2.getTextSize("Ag", _FONT, self._font_scale, 1)
        self._line_h = th + base + 4

    def draw(self, frame: np.ndarray, result: Optional[LaneResult], hud: Optional[dict] = None) -> np.ndarray:
        """Draw ``result`` (and ``hud`` values) into ``frame`` (BGR uint8, modified in place).

        hud keys used when present: ``fps``, ``latency_ms`` (end to end), ``dropped``, ``engine``.
        ``result.geometry`` keys used when present (as ``lanecam.pipeline.geometry`` writes them):
        ``curvature_radius_m`` (signed, + = right; beyond 10 km shown as straight), ``offset_m``
        (or ``lateral_offset_m``), ``lane_width_m``, ``departure`` ("left"/"right"/True -> red
        warning banner; None/"none"/False -> none).
        Returns the frame.
        """
        if frame.shape[:2] != self._size or self._scratch is None or self._scratch.shape != frame.shape:
            self._resize(frame)
        geometry = (result.geometry if result is not None else None) or {}
        if result is not None:
            if self.show_ego and result.ego_polygon is not None and len(result.ego_polygon) >= 3:
                self._fill_ego(frame, result.ego_polygon)
            thickness = self.line_thickness or self._thickness
            for lane in result.lanes:
                if len(lane.points) < 2:
                    continue
                pts = np.rint(lane.points).astype(np.int32).reshape(-1, 1, 2)
                cv2.polylines(frame, [pts], False, SLOT_COLORS.get(lane.slot, _OTHER_COLOR),
                              thickness, cv2.LINE_AA)
        hud_bottom = 0
        if self.show_hud:
            lines = _hud_lines(hud or {}, geometry)
            warnings = getattr(result, "warnings", None) if result is not None else None
            if warnings:
                from lanecam.pipeline.trust import WARNING_SHORT

                # the input is outside what the model knows: say so where the driver looks
                lines.append("! " + ", ".join(WARNING_SHORT.get(w, w) for w in warnings))
            if lines:
                hud_bottom = self._text_box(frame, lines)
        departure = geometry.get("departure")
        if departure and str(departure).lower() not in ("none", "false", "0", "ok"):
            side = f" {str(departure).upper()}" if isinstance(departure, str) else ""
            self._banner(frame, f"LANE DEPARTURE{side}", hud_bottom)
        return frame

    def _fill_ego(self, frame: np.ndarray, polygon: np.ndarray) -> None:
        h, w = frame.shape[:2]
        x, y, bw, bh = cv2.boundingRect(polygon.astype(np.int32))
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + bw, w), min(y + bh, h)
        if x1 <= x0 or y1 <= y0:
            return
        # blend only the bounding box: outside the polygon the scratch equals the frame, so the
        # weighted sum leaves those pixels unchanged
        roi = frame[y0:y1, x0:x1]
        tmp = self._scratch[y0:y1, x0:x1]
        np.copyto(tmp, roi)
        cv2.fillPoly(tmp, [polygon.astype(np.int32) - np.array([x0, y0], np.int32)], EGO_COLOR)
        cv2.addWeighted(tmp, self.ego_alpha, roi, 1.0 - self.ego_alpha, 0.0, dst=roi)

    def _text_box(self, frame: np.ndarray, lines) -> int:
        """Draw the lines top-left on a darkened box; returns the box's bottom row."""
        pad = 6
        widths = [cv2.getTextSize(t, _FONT, self._font_scale, 1)[0][0] for t in lines]
        x1 = min(frame.shape[1], 2 * pad + max(widths))
        y1 = min(frame.shape[0], pad + self._line_h * len(lines) + pad // 2)
        box = frame[:y1, :x1]
        box //= 3  # darken (in place, integer) so the text reads on any background
        for i, text in enumerate(lines):
            cv2.putText(frame, text, (pad, pad + self._line_h * (i + 1) - 6), _FONT,
                        self._font_scale, (255, 255, 255), 1, cv2.LINE_AA)
        return y1

    def _banner(self, frame: np.ndarray, text: str, below: int = 0) -> None:
        """A full-width red banner under the HUD box (or near the top)."""
        h, w = frame.shape[:2]
        scale = self._font_scale * 1.6
        (tw, th), base = cv2.getTextSize(text, _FONT, scale, 2)
        bh = th + base + 12
        y0 = max(0, min(h - bh, max(below + 4, int(0.04 * h))))
        frame[y0:y0 + bh, :] = WARNING_COLOR
        cv2.putText(frame, text, (max(0, (w - tw) // 2), y0 + th + 6), _FONT, scale,
                    (255, 255, 255), 2, cv2.LINE_AA)


def _num(v) -> Optional[float]:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if not math.isnan(f) else None


def _hud_lines(hud: dict, geometry: dict):
    """Short HUD lines from whatever values are present (missing or None values are skipped)."""
    parts = []
    fps = _num(hud.get("fps"))
    if fps is not None:
        parts.append(f"{fps:.1f} FPS")
    lat = _num(hud.get("latency_ms"))
    if lat is not None:
        parts.append(f"e2e {lat:.0f} ms")
    if hud.get("dropped") is not None:
        parts.append(f"drops {hud['dropped']}")
    lines = [" | ".join(parts)] if parts else []
    if hud.get("engine"):
        lines.append(str(hud["engine"]))
    geo = []
    radius = _num(geometry.get("curvature_radius_m"))
    if radius is not None:
        geo.append("R straight" if math.isinf(radius) or abs(radius) > 10000
                   else f"R {abs(radius):.0f} m {'right' if radius > 0 else 'left'}")
    offset = _num(geometry.get("offset_m", geometry.get("lateral_offset_m")))
    if offset is not None:
        geo.append(f"offset {offset:+.2f} m")
    width = _num(geometry.get("lane_width_m"))
    if width is not None:
        geo.append(f"lane {width:.2f} m")
    if geo:
        lines.append(" | ".join(geo))
    return lines
