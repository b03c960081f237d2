"""Frame pool: fixed slots, reference counts, the last consumer returns the slot."""

import threading
import time

import numpy as np
import pytest

from lanecam.pipeline.core.frames import FrameMeta, FramePool
from lanecam.pipeline.errors import InputError


def test_pool_preallocates_frames_and_tensors():
    pool = FramePool(3, 36, 64, tensor_shape=(1, 16, 32, 3))
    assert pool.frames.shape == (3, 36, 64, 3) and pool.frames.dtype == np.uint8
    assert pool.tensors.shape == (3, 1, 16, 32, 3) and pool.tensors.dtype == np.float32
    assert len(pool.metas) == 3 and pool.free_count == 3


def test_acquire_until_empty_then_timeout_then_release():
    pool = FramePool(2, 8, 8)
    a, b = pool.acquire(0.01), pool.acquire(0.01)
    assert {a, b} == {0, 1}
    assert pool.acquire(0.01) is None
    pool.release(a)
    assert pool.acquire(0.01) == a


def test_shared_slot_returns_after_last_consumer():
    pool = FramePool(1, 8, 8)
    s = pool.acquire(0.01)
    pool.share(s, 1)
    pool.release(s)
    assert pool.free_count == 0
    pool.release(s)
    assert pool.free_count == 1
    with pytest.raises(RuntimeError):
        pool.release(s)


def test_acquire_waiter_woken_by_release_and_close():
    pool = FramePool(1, 8, 8)
    s = pool.acquire(0.01)
    got = []
    t = threading.Thread(target=lambda: got.append(pool.acquire(30)))
    t.start()
    time.sleep(0.05)
    pool.release(s)
    t.join(2)
    assert got == [s]
    t = threading.Thread(target=lambda: got.append(pool.acquire(30)))
    t.start()
    time.sleep(0.05)
    pool.close()
    t.join(2)
    assert not t.is_alive() and got[-1] is None


def test_meta_reset_reuses_the_record():
    m = FrameMeta()
    m.stage_ts["infer"] = 1.0
    assert m.reset(7, 2.0, 0.28, "a.jpg") is m
    assert (m.frame_id, m.capture_ts, m.source_ts, m.source_name, m.stage_ts) == (7, 2.0, 0.28, "a.jpg", {})


def test_bad_pool_size():
    with pytest.raises(InputError, match="size"):
        FramePool(0, 8, 8)
