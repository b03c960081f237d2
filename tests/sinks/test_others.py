"""Window (headless refusal), image folder and null sinks."""

import os
import sys

import cv2
import numpy as np
import pytest

from .fakes import Meta
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sinks import ImageFolderSink, NullSink, WindowSink
from lanecam.pipeline.sinks import window as window_module


def test_window_refused_without_gui_support(monkeypatch):
    monkeypatch.setattr(window_module, "gui_backend", lambda cv2: "")
    with pytest.raises(InputError, match="no GUI support.*--preview"):
        WindowSink().open(64, 48, 25)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="$DISPLAY is an X11 notion")
def test_window_refused_without_display(monkeypatch):
    monkeypatch.setattr(window_module, "gui_backend", lambda cv2: "GTK3")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(InputError, match=r"no display .*\$DISPLAY"):
        WindowSink().open(64, 48, 25)


def test_gui_backend_reads_this_build():
    # the test environment has the headless wheel; a GUI build reports its toolkit
    backend = window_module.gui_backend(cv2)
    assert backend == "" or backend.isprintable()


def test_image_folder_writes_one_file_per_frame(tmp_path):
    out = tmp_path / "frames" / "run1"
    sink = ImageFolderSink(out, ext="png")
    sink.open(32, 24, 25)
    for i in range(3):
        sink.write(np.full((24, 32, 3), 50 * i, np.uint8), None, Meta(i))
    sink.close()
    files = sorted(os.listdir(out))
    assert files == ["000000.png", "000001.png", "000002.png"]
    assert cv2.imread(str(out / files[2])).mean() == 100


def test_image_folder_refuses_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        ImageFolderSink(target).open(32, 24, 25)
    with pytest.raises(InputError, match="cannot write .xyz"):
        ImageFolderSink(tmp_path / "o", ext="xyz").open(32, 24, 25)


def test_null_sink_counts():
    sink = NullSink()
    sink.open(32, 24, 25)
    for _ in range(4):
        sink.write(None, None, None)
    sink.close()
    assert sink.frames_written == 4
