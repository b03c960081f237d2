"""Frame sizes are bounded: huge ones refused before anything is allocated, tiny ones named."""

import cv2
import numpy as np
import pytest

from .media import write_video
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources import open_source


@pytest.mark.parametrize("query", ["width=100000&height=100000", "width=7681&height=720",
                                   "width=1280&height=4321"])
def test_huge_synthetic_sizes_are_refused_when_parsed(query):
    uri = f"synthetic://?{query}"
    with pytest.raises(InputError) as info:
        open_source(uri)  # not even opened: refused at parse time
    message = str(info.value)
    assert uri in message and "out of range" in message and "\n" not in message


def test_8k_synthetic_is_accepted_at_parse_time():
    assert open_source("synthetic://?width=7680&height=4320").width == 7680


def test_tiny_image_is_refused_naming_the_file(tmp_path):
    cv2.imwrite(str(tmp_path / "tiny.png"), np.zeros((4, 6, 3), np.uint8))
    with pytest.raises(InputError, match=r"tiny\.png: frame size 6x4 is out of range"):
        open_source(str(tmp_path)).open()


def test_tiny_video_is_refused_naming_the_file(tmp_path):
    path = write_video(tmp_path / "tiny.mp4", 3, width=6, height=6)
    with pytest.raises(InputError) as info:
        open_source(str(path)).open()
    assert str(path) in str(info.value) and "\n" not in str(info.value)
