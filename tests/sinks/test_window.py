"""The window sink makes every HighGUI call in the main thread (Qt builds need it).

OpenCV's HighGUI functions are replaced by a recorder: each call notes its thread, and the
window "closes" when the test says so (``getWindowProperty`` < 1), as a user clicking X would.
"""

import threading
import time

import cv2
import numpy as np
import pytest

from lanecam.pipeline.core import FramePool, Runner, SinkStage, SourceStage, chain
from lanecam.pipeline.sinks import WindowSink
from lanecam.pipeline.sinks import window as window_module
from tests.core.fakes import H, W, FakeSource


class FakeHighGUI:
    """Records (function, thread) for every HighGUI call; ``visible``/``key`` drive the answers."""

    NAMES = ("namedWindow", "resizeWindow", "imshow", "waitKey", "getWindowProperty",
             "destroyWindow")

    def __init__(self, monkeypatch):
        self.calls = []
        self.shown = []
        self.visible = 1.0
        self.key = -1
        self._lock = threading.Lock()
        for name in self.NAMES:
            monkeypatch.setattr(cv2, name, self._recorder(name))
        monkeypatch.setattr(window_module, "gui_backend", lambda cv2: "QT")
        monkeypatch.setenv("DISPLAY", ":99")

    def _recorder(self, name):
        def call(*args):
            with self._lock:
                self.calls.append((name, threading.current_thread()))
            if name == "imshow":
                self.shown.append(int(args[1][0, 0, 0]))
            if name == "waitKey":
                return self.key
            if name == "getWindowProperty":
                return self.visible
            return None
        return call

    def names(self):
        return [name for name, _ in self.calls]

    def off_main(self):
        return [(n, t.name) for n, t in self.calls if t is not threading.main_thread()]


def window_runner(source, sink):
    """source -> display SinkStage([sink]), as ``build_lane_pipeline`` wires a window."""
    stages = [SourceStage(source), SinkStage([sink], "display")]
    pool = FramePool(6, H, W)
    rings = chain(stages, [(1, "latest")], pool)
    return Runner(stages, rings, pool, join_timeout=3.0)


def test_write_in_a_worker_only_copies_and_poll_main_shows(monkeypatch):
    gui = FakeHighGUI(monkeypatch)
    sink = WindowSink()
    sink.open(W, H, 25)
    frame = np.full((H, W, 3), 7, np.uint8)
    worker = threading.Thread(target=sink.write, args=(frame, None, None))
    worker.start()
    worker.join()
    assert "imshow" not in gui.names()  # the worker made no HighGUI call
    frame[:] = 9  # the pooled buffer is reused: the sink must have kept a copy
    sink.poll_main()
    assert gui.shown == [7]
    sink.poll_main()
    assert gui.shown == [7]  # no new frame: nothing shown again, but events still run
    assert gui.names().count("waitKey") == 2
    closer = threading.Thread(target=sink.close)
    closer.start()
    closer.join()
    assert "destroyWindow" not in gui.names()  # left to the main thread
    sink.poll_main()
    assert gui.names()[-2:] == ["destroyWindow", "waitKey"]
    assert gui.off_main() == []


@pytest.mark.parametrize("key", [ord("q"), 27])
def test_stop_keys_request_a_stop(monkeypatch, key):
    gui = FakeHighGUI(monkeypatch)
    sink = WindowSink()
    sink.open(W, H, 25)
    sink.poll_main()
    assert not sink.stop_requested
    gui.key = key
    sink.poll_main()
    assert sink.stop_requested
    sink.close()
    assert gui.names()[-2:] == ["destroyWindow", "waitKey"]  # closed in the main thread


def test_a_run_shows_frames_from_the_main_thread_only(monkeypatch):
    gui = FakeHighGUI(monkeypatch)
    sink = WindowSink()
    sink.open(W, H, 25)
    runner = window_runner(FakeSource(n=40, live=True, fps=100), sink)
    runner.run()
    assert gui.shown, "no frame reached the window"
    assert gui.shown == sorted(gui.shown)  # newest frames, in order
    assert gui.off_main() == []
    assert gui.names()[-2:] == ["destroyWindow", "waitKey"]


def test_closing_the_window_ends_the_run(monkeypatch):
    gui = FakeHighGUI(monkeypatch)
    sink = WindowSink()
    sink.open(W, H, 25)
    runner = window_runner(FakeSource(n=None, live=True, fps=100), sink)  # endless
    threading.Timer(0.3, lambda: setattr(gui, "visible", 0.0)).start()
    start = time.monotonic()
    runner.run()
    assert time.monotonic() - start < 3.0
    assert sink.stop_requested and not runner.interrupted
    after_close = gui.names()[[i for i, (n, _) in enumerate(gui.calls)
                               if n == "getWindowProperty"][-1] + 1:]
    assert "imshow" not in after_close  # a closed window is not opened again
    assert gui.off_main() == []


def test_a_window_closed_under_qt_ends_the_run(monkeypatch):
    """Qt deletes its GUI object with the last window: after the user closes it, querying the
    window raises instead of answering 0 (seen with pip opencv-python 5.0 under Xvfb)."""
    gui = FakeHighGUI(monkeypatch)
    sink = WindowSink()
    sink.open(W, H, 25)
    closed = threading.Event()
    real_query = cv2.getWindowProperty

    def query(*args):
        real_query(*args)  # recorded
        if closed.is_set():
            raise cv2.error("NULL guiReceiver (please create a window)")
        return 1.0

    monkeypatch.setattr(cv2, "getWindowProperty", query)
    runner = window_runner(FakeSource(n=None, live=True, fps=100), sink)  # endless
    threading.Timer(0.3, closed.set).start()
    start = time.monotonic()
    runner.run()  # no PipelineError: a closed window is a stop, like q
    assert time.monotonic() - start < 3.0
    assert sink.stop_requested and not runner.interrupted
    assert gui.off_main() == []


def test_a_failing_window_fails_the_run_naming_the_stage(monkeypatch):
    gui = FakeHighGUI(monkeypatch)
    sink = WindowSink()
    sink.open(W, H, 25)

    def broken(*args):
        raise cv2.error("display lost")

    monkeypatch.setattr(cv2, "waitKey", broken)
    runner = window_runner(FakeSource(n=None, live=True, fps=100), sink)
    from lanecam.pipeline.errors import PipelineError

    with pytest.raises(PipelineError) as info:
        runner.run()
    assert info.value.stage == "display" and "display lost" in str(info.value)
    assert gui.off_main() == []


def test_qt_is_pointed_at_system_fonts_unless_the_user_chose(monkeypatch, tmp_path):
    """The opencv-python wheel's Qt has no fonts of its own and complains on stderr."""
    FakeHighGUI(monkeypatch)
    fonts = tmp_path / "dejavu"
    fonts.mkdir()
    (fonts / "DejaVuSans.ttf").write_bytes(b"")
    monkeypatch.setattr(window_module, "SYSTEM_FONT_DIRS", (str(tmp_path / "none"), str(fonts)))
    # what the wheel's cv2/__init__ sets: a folder it does not ship
    monkeypatch.setenv("QT_QPA_FONTDIR", str(tmp_path / "cv2" / "qt" / "fonts"))
    sink = WindowSink()
    sink.open(W, H, 25)
    sink.close()
    import os

    assert os.environ["QT_QPA_FONTDIR"] == str(fonts)
    chosen = tmp_path / "the users choice"
    chosen.mkdir()
    monkeypatch.setenv("QT_QPA_FONTDIR", str(chosen))
    window_module.point_qt_at_system_fonts()
    assert os.environ["QT_QPA_FONTDIR"] == str(chosen)
