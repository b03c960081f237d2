"""Small videos written on the fly for source tests (never binaries in the repo)."""

from pathlib import Path

import cv2
import numpy as np


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
