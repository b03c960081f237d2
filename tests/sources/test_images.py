"""Image folders and globs: natural order, names relative to the folder, one size."""

import cv2
import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources import ReadStatus, open_source


def _write(path, value=0, size=(32, 24)):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((size[1], size[0], 3), value, np.uint8))


def _names(src):
    names = []
    while True:
        status, frame, _ = src.read()
        if status is ReadStatus.END:
            return names
        names.append((src.source_name, int(frame.mean())))


def test_folder_in_natural_order_with_relative_names(tmp_path):
    for i, name in enumerate(["f10.png", "f2.png", "f1.png"]):
        _write(tmp_path / name, value=10 * (i + 1))
    (tmp_path / "readme.txt").write_text("not an image")
    with open_source(str(tmp_path)) as src:
        assert (src.width, src.height, src.frame_count, src.is_live) == (32, 24, 3, False)
        got = _names(src)
    assert got == [("f1.png", 30), ("f2.png", 20), ("f10.png", 10)]


def test_glob_names_are_relative_to_its_fixed_folder(tmp_path):
    _write(tmp_path / "clips" / "b" / "20.jpg")
    _write(tmp_path / "clips" / "a" / "20.jpg")
    _write(tmp_path / "clips" / "a" / "3.png")
    with open_source(str(tmp_path / "clips" / "**" / "20.jpg")) as src:
        assert [n for n, _ in _names(src)] == ["a/20.jpg", "b/20.jpg"]


def test_decodes_into_callers_buffer(tmp_path):
    _write(tmp_path / "a.png", value=77)
    buf = np.zeros((24, 32, 3), np.uint8)
    with open_source(str(tmp_path / "a.png")) as src:
        status, frame, ts = src.read(out=buf)
    assert status is ReadStatus.OK and frame is buf and buf.mean() == 77 and ts == 0.0


def test_inconsistent_size_names_the_odd_image(tmp_path):
    _write(tmp_path / "1.png")
    _write(tmp_path / "2.png", size=(40, 24))
    with open_source(str(tmp_path)) as src:
        assert src.read()[0] is ReadStatus.OK
        with pytest.raises(InputError, match=r"2\.png: is 40x24, expected 32x24"):
            src.read()


@pytest.mark.parametrize("make, message", [
    (lambda d: d, "no images in this folder"),
    (lambda d: d / "*.png", "matches no image files"),
])
def test_empty_folders_and_globs_are_refused(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        open_source(str(make(tmp_path))).open()


def test_unreadable_image_is_refused(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(InputError, match="broken.jpg: not a readable image"):
        open_source(str(tmp_path)).open()


def test_tusimple_frames_keep_their_names(shared_data):
    folder = shared_data / "tusimple"
    with open_source(str(folder / "images" / "*.png")) as src:
        names = [n for n, _ in _names(src)]
    assert names == [f"{i:04d}.png" for i in range(6)]
