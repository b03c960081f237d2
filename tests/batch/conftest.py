"""Fixtures for ``lanecam batch``: small videos made on the fly, a local Ray of two CPUs."""

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest


def road_frame(i: int, width: int, height: int) -> np.ndarray:
    """A dark road with two bright lane lines that drift with ``i`` (the model finds lanes
    in it, so rows carry points)."""
    img = np.full((height, width, 3), 60, np.uint8)
    img[: height // 3] = (200, 170, 140)  # sky
    shift = (i % 20) - 10
    for x_bottom, x_top in ((width // 5, width * 2 // 5), (width * 4 // 5, width * 3 // 5)):
        cv2.line(img, (x_bottom + shift, height - 1), (x_top + shift // 2, height // 2),
                 (235, 235, 235), max(2, width // 100))
    return img


def write_video(path, frames: int = 24, width: int = 320, height: int = 180,
                fps: float = 25.0) -> Path:
    """An MPEG-4 part 2 video of ``frames`` frames (OpenCV; its index is at the end)."""
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert out.isOpened()
    for i in range(frames):
        out.write(road_frame(i, width, height))
    out.release()
    return Path(path)


def write_cut_video(path, frames: int = 40, width: int = 160, height: int = 96) -> Path:
    """A video whose last 40 % of bytes are gone (index at the front: the frames before the
    cut still decode)."""
    av = pytest.importorskip("av")
    from fractions import Fraction

    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = 10
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(road_frame(i, width, height), format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) * 6 // 10])
    return Path(path)


def decoded_frames(path) -> int:
    """Frames OpenCV decodes from ``path``, counted independently of lanecam."""
    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count


@pytest.fixture(scope="module")
def local_ray():
    """Ray started in this process with two CPUs (what CI has), shut down after the module;
    ``lanecam batch`` run in-process uses it instead of starting its own."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("pyarrow")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    yield ray
    ray.shutdown()
