"""Bounded rings between stages, each with a named overflow policy and drop counters.

A ring carries small items (the pipeline's are ``(slot, FrameMeta)``). What happens when it is
full is the ring's policy:

- ``BLOCK``: the producer waits (with a timeout) for room; nothing is ever lost. Files and
  benchmarks: back-pressure reaches the decoder.
- ``DROP_OLDEST``: the oldest queued item is dropped to make room; the producer never waits.
  Live sources: latency cannot accumulate in the ring.
- ``LATEST``: only the newest item is kept (capacity 1); a reader always gets the newest.
  Display sinks.

Dropped items are counted and handed to ``on_drop`` (the pipeline returns their frame slot to
the pool). End of stream is a flag, not an item: ``end()`` never blocks and is never dropped, and
a reader gets ``END`` once the items queued before it are drained. ``close()`` aborts: every
waiter wakes up at once, readers get ``CLOSED`` and puts are refused.
"""

import collections
import enum
import threading
from typing import Any, Callable, Optional

__all__ = ["Policy", "Ring", "END", "CLOSED", "TIMEOUT"]


class Policy(enum.Enum):
    """Overflow policy of a ring (see the module docstring)."""

    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"
    LATEST = "latest"


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


END = _Marker("END")          # the producer ended the stream and the ring is drained
CLOSED = _Marker("CLOSED")    # the ring was closed (abort): stop now
TIMEOUT = _Marker("TIMEOUT")  # nothing arrived within the timeout


class Ring:
    """A bounded FIFO with an overflow policy.

    Args:
        name: for stats and error messages ("source->preprocess").
        capacity: maximum queued items (LATEST always uses 1).
        policy: a ``Policy`` (or its value string).
        on_drop: called with each dropped item, outside the ring's lock.

    Attributes:
        dropped: items dropped by the policy so far.
        puts, gets: items accepted and handed out.
        max_occupancy: the most items ever queued at once.

    Thread-safe for any number of producers and consumers.
    """

    def __init__(self, name: str, capacity: int = 2, policy=Policy.BLOCK,
                 on_drop: Optional[Callable[[Any], None]] = None):
        policy = Policy(policy)
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"ring {name}: capacity must be a positive integer, got {capacity!r}")
        self.name = name
        self.policy = policy
        self.capacity = 1 if policy is Policy.LATEST else capacity
        self.on_drop = on_drop
        self.dropped = 0
        self.puts = 0
        self.gets = 0
        self.max_occupancy = 0
        self._occupancy_sum = 0
        self._items = collections.deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._ended = False
        self._closed = False

    # ---- producer side ------------------------------------------------------------------------
    def put(self, item, timeout: float = 1.0) -> bool:
        """Queue ``item``; True when queued.

        BLOCK waits up to ``timeout`` s for room and returns False when there is none (the
        caller checks its stop event and retries). The dropping policies never wait.
        Returns False on a closed or ended ring.
        """
        dropped = []
        with self._lock:
            if self._closed or self._ended:
                return False
            if len(self._items) >= self.capacity:
                if self.policy is Policy.BLOCK:
                    self._not_full.wait_for(
                        lambda: len(self._items) < self.capacity or self._closed, timeout)
                    if self._closed or len(self._items) >= self.capacity:
                        return False
                else:
                    while len(self._items) >= self.capacity:
                        dropped.append(self._items.popleft())
                    self.dropped += len(dropped)
            self._items.append(item)
            self.puts += 1
            n = len(self._items)
            self._occupancy_sum += n
            if n > self.max_occupancy:
                self.max_occupancy = n
            self._not_empty.notify()
        if self.on_drop is not None:
            for old in dropped:
                self.on_drop(old)
        return True

    def end(self) -> None:
        """Mark the end of the stream: readers get ``END`` after the queued items. Never blocks."""
        with self._lock:
            self._ended = True
            self._not_empty.notify_all()

    # ---- consumer side ------------------------------------------------------------------------
    def get(self, timeout: float = 1.0):
        """The oldest queued item, or ``END`` / ``CLOSED`` / ``TIMEOUT`` (after ``timeout`` s)."""
        with self._lock:
            if not self._items and not self._ended and not self._closed:
                self._not_empty.wait_for(
                    lambda: self._items or self._ended or self._closed, timeout)
            if self._closed:
                return CLOSED
            if self._items:
                self.gets += 1
                item = self._items.popleft()
                self._not_full.notify()
                return item
            return END if self._ended else TIMEOUT

    # ---- control ------------------------------------------------------------------------------
    def close(self) -> list:
        """Abort: wake every waiter, refuse later puts; returns the items still queued."""
        with self._lock:
            self._closed = True
            left = list(self._items)
            self._items.clear()
            self._not_empty.notify_all()
            self._not_full.notify_all()
        return left

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def ended(self) -> bool:
        return self._ended

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def stats(self) -> dict:
        """Counters for the metrics summary."""
        with self._lock:
            mean = self._occupancy_sum / self.puts if self.puts else 0.0
            return {"policy": self.policy.value, "capacity": self.capacity, "puts": self.puts,
                    "gets": self.gets, "dropped": self.dropped, "occupancy": len(self._items),
                    "max_occupancy": self.max_occupancy, "mean_occupancy": round(mean, 3)}

    def __repr__(self) -> str:
        return (f"<Ring {self.name} {self.policy.value} {len(self._items)}/{self.capacity} "
                f"dropped={self.dropped}>")
