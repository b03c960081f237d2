"""Drawing lane results on frames: ego-lane fill, lane lines by slot, HUD, departure banner."""

from lanecam.pipeline.overlay.draw import EGO_COLOR, SLOT_COLORS, WARNING_COLOR, Overlay

__all__ = ["Overlay", "SLOT_COLORS", "EGO_COLOR", "WARNING_COLOR"]
