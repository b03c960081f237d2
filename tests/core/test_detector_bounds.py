"""``LaneDetector`` takes frames within the bounds of every source, like the CLI (issue 25 #13).

Before, ``LaneDetector()(frame)`` accepted any size (a 20000x20000 frame, then 1.1 GB more in
``draw``) while ``lanecam run`` refused frames over 8K. The sizes here are cheap (one side out
of bounds) so that the old code, which processed them, costs nothing either.
"""

import numpy as np
import pytest

from lanecam.pipeline.detector import LaneDetector
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import MAX_HEIGHT, MAX_WIDTH, MIN_SIDE


@pytest.fixture(scope="module")
def detector():
    pytest.importorskip("onnxruntime")
    with LaneDetector(threads=1) as d:
        yield d


@pytest.mark.parametrize("height, width", [(64, MAX_WIDTH + 1), (MAX_HEIGHT + 1, 64),
                                           (MIN_SIDE - 1, 64), (64, MIN_SIDE - 1)])
@pytest.mark.parametrize("step", ["call", "preprocess", "draw"])
def test_a_frame_out_of_bounds_is_one_input_error(detector, height, width, step):
    frame = np.zeros((height, width, 3), np.uint8)
    with pytest.raises(InputError) as err:
        if step == "call":
            detector(frame)
        elif step == "preprocess":
            detector.preprocess(frame)
        else:
            detector.draw(frame, None)
    text = str(err.value)
    assert f"{width}x{height}" in text
    assert f"width {MIN_SIDE}..{MAX_WIDTH}, height {MIN_SIDE}..{MAX_HEIGHT}" in text


def test_a_huge_frame_is_refused_before_anything_is_allocated(detector):
    # a 20000x20000 view of one pixel: refused from its shape, never copied or resized
    frame = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (20000, 20000, 3))
    with pytest.raises(InputError, match="20000x20000"):
        detector(frame)


def test_frames_at_the_bounds_are_fine(detector):
    assert detector(np.zeros((MIN_SIDE, MIN_SIDE, 3), np.uint8)) is not None
    assert detector(np.zeros((48, 64, 3), np.uint8)).lanes is not None
