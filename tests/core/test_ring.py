"""Ring policies tested directly: what a reader gets, what is dropped and counted, who wakes."""

import threading
import time

import pytest

from lanecam.pipeline.core.ring import CLOSED, END, TIMEOUT, Policy, Ring


def test_latest_reader_gets_newest_then_nothing():
    ring = Ring("display", policy=Policy.LATEST)
    assert ring.put(1) and ring.put(2)
    assert ring.get(timeout=0.01) == 2
    assert ring.get(timeout=0.01) is TIMEOUT
    assert ring.dropped == 1


def test_drop_oldest_drops_and_counts_and_calls_on_drop():
    dropped = []
    ring = Ring("live", capacity=2, policy=Policy.DROP_OLDEST, on_drop=dropped.append)
    for i in range(5):
        assert ring.put(i, timeout=0)  # never waits, never refuses
    assert dropped == [0, 1, 2]
    assert ring.dropped == 3
    assert [ring.get(0.01), ring.get(0.01)] == [3, 4]
    assert ring.stats()["max_occupancy"] == 2


def test_block_full_put_times_out_without_dropping():
    ring = Ring("file", capacity=1, policy=Policy.BLOCK)
    assert ring.put("a")
    assert ring.put("b", timeout=0.05) is False
    assert ring.dropped == 0
    assert ring.get(0.01) == "a"
    assert ring.put("b", timeout=0.05)


@pytest.mark.smoke
def test_block_loses_nothing_with_a_slow_consumer():
    ring = Ring("file", capacity=2, policy=Policy.BLOCK)
    n = 200
    got = []

    def consume():
        while True:
            item = ring.get(timeout=1.0)
            if item is END:
                return
            got.append(item)
            if item % 20 == 0:
                time.sleep(0.005)  # slow now and then: the producer must wait, not drop

    reader = threading.Thread(target=consume)
    reader.start()
    for i in range(n):
        while not ring.put(i, timeout=0.1):
            pass
    ring.end()
    reader.join(5)
    assert not reader.is_alive()
    assert got == list(range(n))
    assert ring.dropped == 0


def test_end_is_delivered_after_queued_items_and_never_blocks():
    ring = Ring("r", capacity=1, policy=Policy.BLOCK)
    ring.put(1)
    ring.end()  # the ring is full: end() must still return at once
    assert ring.put(2, timeout=0) is False
    assert ring.get(0.01) == 1
    assert ring.get(0.01) is END
    assert ring.get(0.01) is END


@pytest.mark.parametrize("side", ["get", "put"])
def test_close_wakes_waiters(side):
    ring = Ring("r", capacity=1, policy=Policy.BLOCK)
    if side == "put":
        ring.put(0)
    result = []

    def wait():
        if side == "get":
            result.append(ring.get(timeout=30))
        else:
            result.append(ring.put(1, timeout=30))

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.05)
    assert t.is_alive()
    ring.close()
    t.join(2)  # far less than the 30 s timeout: close() woke it
    assert not t.is_alive()
    assert result == [CLOSED] if side == "get" else result == [False]


def test_get_timeout_returns_timeout_marker():
    assert Ring("r").get(timeout=0.01) is TIMEOUT


def test_bad_capacity_refused():
    with pytest.raises(ValueError, match="capacity"):
        Ring("r", capacity=0)
