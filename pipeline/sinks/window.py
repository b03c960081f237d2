"""An on-screen window (``--display``) through OpenCV's HighGUI."""

import os
import sys

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sinks.base import Sink

__all__ = ["WindowSink", "gui_backend"]


def gui_backend(cv2) -> str:
    """The GUI backend OpenCV was built with (``"GTK3"``, ``"QT"``, ``"WIN32UI"``...), or
    ``""`` when it has none (the ``opencv-python-headless`` wheel)."""
    for line in cv2.getBuildInformation().splitlines():
        key, _, value = line.strip().partition(":")
        if key == "GUI":
            value = value.strip()
            return "" if value.upper() in ("", "NONE", "NO") else value
    return ""


class WindowSink(Sink):
    """Shows frames in a window; ``q`` or Esc (or closing the window) sets ``stop_requested``.

    ``open()`` refuses, with an ``InputError`` saying what to do instead, an OpenCV without GUI
    support and a Linux session without a display (``$DISPLAY`` / ``$WAYLAND_DISPLAY``).
    """

    name = "window"
    is_display = True

    def __init__(self, title: str = "lanecam"):
        super().__init__()
        self.title = title
        self._cv2 = None

    def _open(self) -> None:
        import cv2

        instead = "use --preview PORT (view in a browser) or -o OUT.mp4 instead"
        if not gui_backend(cv2):
            raise InputError(f"--display: this OpenCV {cv2.__version__} has no GUI support "
                             f"(a headless build); install opencv-python, or {instead}")
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                     or os.environ.get("WAYLAND_DISPLAY")):
            raise InputError(f"--display: no display on this machine ($DISPLAY is not set); "
                             f"{instead}")
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
            cv2.resizeWindow(self.title, self.width, self.height)
        except cv2.error as exc:
            raise InputError(f"--display: cannot open a window: {exc}") from None
        self._cv2 = cv2

    def _write(self, frame, result, meta) -> None:
        cv2 = self._cv2
        cv2.imshow(self.title, frame)
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), 27) or cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            self.stop_requested = True

    def _close(self) -> None:
        if self._cv2 is not None:
            self._cv2.destroyWindow(self.title)
            self._cv2.waitKey(1)
            self._cv2 = None
