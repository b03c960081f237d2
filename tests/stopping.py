"""Stopping a child ``lanecam`` process with a signal, as ``timeout``, ``docker stop`` or Ctrl-C
would, for the tests that check what a stop leaves behind."""

import signal
import subprocess
import time
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
