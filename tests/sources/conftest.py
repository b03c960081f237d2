"""Fixtures for source tests: small videos written on the fly (never binaries in the repo)."""

import sys
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

sys.path.insert(0, str(Path(__file__).parent))  # for mjpeg_server


def numbered_frame(i: int, width: int = 64, height: int = 48) -> np.ndarray:
    """A frame whose brightness encodes ``i`` (robust to lossy compression)."""
    return np.full((height, width, 3), (20 + 10 * i) % 240, np.uint8)


def write_video(path, n: int, fps: float = 10.0, width: int = 64, height: int = 48) -> Path:
    """An ``n``-frame mp4v video made with OpenCV (its index is at the end of the file)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for i in range(n):
        writer.write(numbered_frame(i, width, height))
    writer.release()
    return Path(path)


@pytest.fixture
def small_video(tmp_path) -> Path:
    """12 frames, 64x48, 10 fps."""
    return write_video(tmp_path / "small.mp4", 12)
