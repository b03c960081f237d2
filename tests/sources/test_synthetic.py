"""synthetic:// : the road renderer as a file-like or live source."""

import time

import numpy as np
import pytest

from lanecam.pipeline.sources import ReadStatus, open_source

pytest.importorskip("lanecam.pipeline.roadsim", reason="the road renderer is not in this checkout yet")


@pytest.mark.smoke
def test_file_like_drive_ends_after_frames():
    with open_source("synthetic://?width=160&height=96&fps=20&seed=3&frames=5") as src:
        assert (src.width, src.height, src.fps) == (160, 96, 20.0)
        assert src.frame_count == 5 and not src.is_live
        buf = np.zeros((96, 160, 3), np.uint8)
        got = []
        while True:
            status, frame, ts = src.read(out=buf)
            if status is ReadStatus.END:
                break
            assert status is ReadStatus.OK and frame is buf and frame.dtype == np.uint8
            got.append((ts, frame.copy()))
            assert src.truth is not None
    assert [t for t, _ in got] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    assert any(not np.array_equal(got[0][1], f) for _, f in got[1:])  # it moves


def test_same_seed_same_drive():
    def frames(uri):
        with open_source(uri) as src:
            return [src.read()[1].copy() for _ in range(3)]

    uri = "synthetic://?width=128&height=72&seed=7&frames=3"
    a, b = frames(uri), frames(uri)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_live_paces_like_a_camera():
    with open_source("synthetic://?width=128&height=72&fps=50&frames=6&live=1") as src:
        assert src.is_live and src.frame_count == 6
        start = time.monotonic()
        stamps = []
        while True:
            status, _, ts = src.read()
            if status is ReadStatus.END:
                break
            stamps.append(ts)
    assert len(stamps) == 6
    assert stamps[-1] - stamps[0] >= 5 / 50 * 0.9  # never faster than fps
    assert all(start <= t <= time.monotonic() for t in stamps)  # monotonic capture times


def test_realtime_option_means_live():
    assert open_source("synthetic://?frames=1", realtime=True).is_live
