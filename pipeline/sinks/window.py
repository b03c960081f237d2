"""An on-screen window (``--display``) through OpenCV's HighGUI.

GUI toolkits (Qt above all, which the ``opencv-python`` wheel and Debian's ``python3-opencv``
use) only work from the main thread: HighGUI called from a pipeline thread shows a blank window
and its event loop swallows Ctrl-C. So the work is split by thread:

* ``write`` (the display stage's thread) only copies the newest frame into a buffer;
* ``poll_main`` (the runner's loop, in the main thread, every few tens of ms) shows it, runs
  the GUI event loop (``waitKey``), reads the keys and whether the window was closed, and
  destroys the window once the sink is closed.

``open`` creates the window: it runs in the main thread too (the caller opens the sinks before
the run), so a display that cannot be used is reported before any thread starts.
"""

import glob
import os
import sys
import threading

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sinks.base import Sink

__all__ = ["WindowSink", "gui_backend", "point_qt_at_system_fonts"]

STOP_KEYS = (ord("q"), 27)  # q and Esc
# Folders holding .ttf files directly, where Qt can find fonts on common Linux systems
SYSTEM_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
                    "/usr/share/fonts/TTF", "/usr/share/fonts/truetype/liberation")


def gui_backend(cv2) -> str:
    """The GUI backend OpenCV was built with (``"GTK3"``, ``"QT"``, ``"WIN32UI"``...), or
    ``""`` when it has none (the ``opencv-python-headless`` wheel)."""
    for line in cv2.getBuildInformation().splitlines():
        key, _, value = line.strip().partition(":")
        if key == "GUI":
            value = value.strip()
            return "" if value.upper() in ("", "NONE", "NO") else value
    return ""


def point_qt_at_system_fonts() -> None:
    """The ``opencv-python`` wheel sets ``QT_QPA_FONTDIR`` to ``cv2/qt/fonts``, which it does
    not ship, and its Qt then says so on stderr each time it lays out text (two lines each,
    several per run); point it at a system font folder instead. A ``QT_QPA_FONTDIR`` naming
    a folder that exists is left alone. Call before the first window is made."""
    if os.path.isdir(os.environ.get("QT_QPA_FONTDIR") or "/nonexistent/"):
        return
    for folder in SYSTEM_FONT_DIRS:
        if glob.glob(os.path.join(folder, "*.ttf")):
            os.environ["QT_QPA_FONTDIR"] = folder
            return


class WindowSink(Sink):
    """Shows frames in a window; ``q`` or Esc (or closing the window) sets ``stop_requested``.

    ``open()`` refuses, with an ``InputError`` saying what to do instead, an OpenCV without GUI
    support and a Linux session without a display (``$DISPLAY`` / ``$WAYLAND_DISPLAY``).
    Every HighGUI call happens in ``open``, ``poll_main`` or a ``close`` made in the main
    thread; a ``close`` from another thread leaves the window to the next ``poll_main``.
    """

    name = "window"
    is_display = True

    def __init__(self, title: str = "lanecam"):
        super().__init__()
        self.title = title
        self._cv2 = None
        self._lock = threading.Lock()
        self._back = None    # newest frame, written by ``write`` under the lock
        self._front = None   # the frame being shown, owned by the main thread
        self._fresh = False  # ``_back`` holds a frame not shown yet
        self._closed = False  # the sink was closed: the window must go
        self._user_closed = False  # the user closed the window: never show it again

    def _open(self) -> None:
        import cv2

        instead = "use --preview PORT (view in a browser) or -o OUT.mp4 instead"
        if not gui_backend(cv2):
            raise InputError(f"--display: this OpenCV {cv2.__version__} has no GUI support "
                             f"(a headless build); pip uninstall opencv-python-headless and "
                             f"pip install opencv-python, or {instead}")
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                     or os.environ.get("WAYLAND_DISPLAY")):
            raise InputError(f"--display: no display on this machine ($DISPLAY is not set); "
                             f"{instead}")
        if gui_backend(cv2).upper().startswith("QT"):
            point_qt_at_system_fonts()
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
            cv2.resizeWindow(self.title, self.width, self.height)
        except cv2.error as exc:
            raise InputError(f"--display: cannot open a window: {exc}") from None
        self._cv2 = cv2
        self._closed = self._user_closed = False

    def _write(self, frame, result, meta) -> None:
        # a worker thread: no HighGUI here, only a copy (the pooled frame is reused after us)
        with self._lock:
            if self._back is None or self._back.shape != frame.shape:
                self._back = np.empty_like(frame)
            np.copyto(self._back, frame)
            self._fresh = True

    def poll_main(self) -> None:
        """Main thread only: show the newest frame, run the GUI events, read key and close."""
        cv2 = self._cv2
        if cv2 is None:
            return
        if self._closed:
            self._destroy()
            return
        if self._user_closed:
            return  # imshow would open the window again
        with self._lock:
            if self._fresh:
                # swap, so that write() fills the other buffer while this one is shown
                self._back, self._front = self._front, self._back
                self._fresh = False
                frame = self._front
            else:
                frame = None
        if frame is not None:
            cv2.imshow(self.title, frame)
        key = cv2.waitKey(1) & 0xFF
        if key in STOP_KEYS:
            self.stop_requested = True
        if not self._visible(cv2):
            self._user_closed = self.stop_requested = True

    def _visible(self, cv2) -> bool:
        """Whether the window is still open (the user may have closed it)."""
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1
        except cv2.error:
            # Qt builds delete their GUI object with the last window: a window closed by the
            # user makes the query itself fail ("NULL guiReceiver (please create a window)")
            return False

    def _close(self) -> None:
        self._closed = True
        if threading.current_thread() is threading.main_thread():
            self._destroy()  # a run that never started: nobody will poll

    def _destroy(self) -> None:
        cv2, self._cv2 = self._cv2, None
        if cv2 is None:
            return
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)  # let the GUI process the close
        except cv2.error:
            pass  # the user closed it already (some backends then refuse the name)
