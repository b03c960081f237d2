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


def test_later_images_of_another_size_are_resized_once_warned(tmp_path, caplog):
    _write(tmp_path / "1.png", 10)
    _write(tmp_path / "2.png", 50, size=(64, 48))
    _write(tmp_path / "3.png", 90, size=(16, 12))
    with open_source(str(tmp_path)) as src:
        frames = [src.read()[1] for _ in range(3)]
        assert src.read()[0] is ReadStatus.END
    assert [f.shape for f in frames] == [(24, 32, 3)] * 3
    assert [int(f.mean()) for f in frames] == [10, 50, 90]
    assert src.resized == 2
    warnings = [r.getMessage() for r in caplog.records if "resized" in r.getMessage()]
    assert len(warnings) == 1 and "2.png: is 64x48, resized to 32x24" in warnings[0]


@pytest.mark.parametrize("make, message", [
    (lambda d: d, "no images in this folder"),
    (lambda d: d / "*.png", "matches no image files"),
])
def test_empty_folders_and_globs_are_refused(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        open_source(str(make(tmp_path))).open()


def test_unreadable_images_are_skipped_counted_and_named(tmp_path):
    _write(tmp_path / "0.png", 10)
    (tmp_path / "1.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    _write(tmp_path / "2.png", 30)
    (tmp_path / "3.png").write_bytes(b"")
    _write(tmp_path / "4.png", 50)
    with open_source(str(tmp_path)) as src:
        assert _names(src) == [("0.png", 10), ("2.png", 30), ("4.png", 50)]
    assert src.skipped.ranges == [(1, 1), (3, 3)] and src.skipped.count == 2
    assert [p.rsplit("/", 1)[-1] for p in src.unreadable] == ["1.jpg", "3.png"]


def test_unreadable_first_image_is_skipped_too(tmp_path):
    (tmp_path / "0.jpg").write_bytes(b"junk")
    _write(tmp_path / "1.png", 30)
    with open_source(str(tmp_path)) as src:
        assert src.width == 32 and _names(src) == [("1.png", 30)]
    assert src.skipped.count == 1


def test_folder_of_only_unreadable_images_is_refused(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(InputError, match="none of the 1 images is readable.*broken.jpg"):
        open_source(str(tmp_path)).open()


def test_tusimple_frames_keep_their_names(shared_data):
    folder = shared_data / "tusimple"
    with open_source(str(folder / "images" / "*.png")) as src:
        names = [n for n, _ in _names(src)]
    assert names == [f"{i:04d}.png" for i in range(6)]
