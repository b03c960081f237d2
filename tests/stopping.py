"""Stopping a child ``lanecam`` process with a signal, as ``timeout``, ``docker stop`` or Ctrl-C
would, for the tests that check what a stop leaves behind."""

import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Union


def stop_child(proc: subprocess.Popen, when: Union[float, Callable[[], None]],
               signum: int = signal.SIGTERM, timeout: float = 60.0) -> str:
    """Send ``signum`` to ``proc`` once ``when`` has passed (seconds, or a callable that
    returns when the child has got far enough) and return its stderr. The child is killed if
    it is still alive afterwards (a failed wait or a hang), so no test leaves one behind."""
    try:
        if callable(when):
            when()
        else:
            time.sleep(when)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return err


def catches(pid: int, signum: int = signal.SIGTERM) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (Linux ``/proc``; True where that
    cannot be read, so callers fall back to their delay)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except (OSError, ValueError, IndexError):
        pass
    return True


def once_handled(proc: subprocess.Popen, delay: float, signum: int = signal.SIGTERM,
                 limit: float = 30.0) -> Callable[[], None]:
    """A ``when`` for ``stop_child``: ``delay`` seconds after the start and not before the child
    handles ``signum``. A fixed delay alone can fall before lanecam has installed its handlers
    on a starved machine, and the child then dies of the signal's default action (exit -15)
    instead of stopping as lanecam does."""
    start = time.monotonic()

    def wait() -> None:
        while (time.monotonic() - start < limit and proc.poll() is None
               and not catches(proc.pid, signum)):
            time.sleep(0.02)
        time.sleep(max(0.0, delay - (time.monotonic() - start)))
    return wait
