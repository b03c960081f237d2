"""The benchmark input: preloaded replay, per-run limits, refusals."""

import numpy as np
import pytest

from lanecam.pipeline.bench.source import BenchInput, ReplaySource
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import ReadStatus

from .helpers import SMALL_SYNTHETIC


def _read_all(src, h, w):
    buf = np.empty((h, w, 3), np.uint8)
    frames = []
    while True:
        status, frame, _ = src.read(out=buf)
        if status is not ReadStatus.OK:
            return frames
        assert frame is buf  # decoded into the caller's buffer, as the pool needs
        frames.append(frame.copy())


def test_synthetic_is_preloaded_and_replayed_identically():
    bi = BenchInput(SMALL_SYNTHETIC, frames=10, preload=4)
    assert (bi.width, bi.height, bi.frames_per_run) == (160, 96, 10)
    assert len(bi.preloaded) == 4 and not bi.is_live
    first = _read_all(bi.make(), 96, 160)
    second = _read_all(bi.make(), 96, 160)
    assert len(first) == len(second) == 10
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
    assert np.array_equal(first[4], first[0])  # cycles through the preloaded frames
    assert "replayed" in bi.describe()["note"]


def test_video_file_is_read_in_every_run_and_limited(small_video):
    bi = BenchInput(str(small_video))
    assert bi.frames_per_run == 24 and not bi.preloaded  # the whole file
    assert len(_read_all(bi.make(5), bi.height, bi.width)) == 5
    assert len(_read_all(bi.make(), bi.height, bi.width)) == 24
    assert "decoding is part" in bi.describe()["note"]


def test_endless_source_gets_a_default_count():
    bi = BenchInput(SMALL_SYNTHETIC, preload=2)
    assert bi.frames_per_run == 300


@pytest.mark.parametrize("uri, kwargs, message", [
    (SMALL_SYNTHETIC, {"frames": 0}, "--frames"),
    (SMALL_SYNTHETIC, {"preload": -1}, "--preload"),
    (SMALL_SYNTHETIC + "&live=1", {"preload": 3}, "live source cannot be preloaded"),
    ("/no/such/video.mp4", {}, "no such file"),
])
def test_bad_input_is_refused(uri, kwargs, message):
    with pytest.raises(InputError, match=message):
        BenchInput(uri, **kwargs)


def test_replay_source_needs_frames():
    with pytest.raises(InputError, match="no frames"):
        ReplaySource("x://", [], 25.0, 3)
