"""How long a network source waits before reconnecting: exponential backoff that a connection
which drops at once does not reset."""

import time
from typing import Optional

__all__ = ["Backoff", "BACKOFF_START_S", "STABLE_AFTER_S"]

BACKOFF_START_S = 0.25
# A connection that delivered frames this long was healthy: the next drop is a new outage and
# is retried quickly again. One that drops sooner (a server that accepts and then closes, a
# clip replayed from its start) keeps the wait growing, so a reconnect that succeeds instantly
# never turns into a loop of dozens of connections a second.
STABLE_AFTER_S = 10.0


class Backoff:
    """The wait before each reconnect attempt: ``BACKOFF_START_S`` doubling up to ``cap``.

    Call ``connected()`` when a connection is made and ``next_delay()`` once per lost
    connection or failed attempt. The wait goes back to the start only when the connection
    before the loss lasted ``STABLE_AFTER_S``.

    Args:
        cap: the longest wait in seconds (``max_backoff``).
    """

    def __init__(self, cap: float):
        self.cap = max(float(cap), BACKOFF_START_S)
        self._next = BACKOFF_START_S
        self._connected_at: Optional[float] = None

    def connected(self) -> None:
        """A connection was made (and may or may not last)."""
        self._connected_at = time.monotonic()

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt."""
        held = (time.monotonic() - self._connected_at
                if self._connected_at is not None else 0.0)
        if held >= STABLE_AFTER_S:
            self._next = BACKOFF_START_S
        self._connected_at = None
        delay, self._next = self._next, min(self._next * 2, self.cap)
        return delay
