"""Ctrl-C, SIGTERM and SIGHUP end a command the same way: the outputs are finished.

``timeout``, ``docker stop``, systemd and Kubernetes send SIGTERM; closing a terminal sends
SIGHUP. ``install`` makes both raise ``Interrupted`` (a ``KeyboardInterrupt``) in the main
thread like Ctrl-C, so every path that finishes the outputs on Ctrl-C does so on them too, and
the exit status says which signal it was (128 + the signal number: 130, 143, 129).

While a command is starting (imports, opening the model, the source and the outputs) a first
signal is only recorded (``deferred``): interrupting an import half way leaves modules half
initialised and tracebacks or misleading errors behind. The runner's loop calls ``arm()``
once it runs, which raises the recorded signal there, where it means "stop gracefully". A
second signal during start-up raises at once, so a slow start can always be cut short.
"""

import signal
import threading
from typing import Optional

__all__ = ["Interrupted", "install", "arm", "received", "exit_code"]

_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class Interrupted(KeyboardInterrupt):
    """A stop signal; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _State:
    received: Optional[int] = None
    armed = True


_state = _State()


def _handler(signum, frame) -> None:
    first = _state.received is None
    _state.received = _state.received or signum
    if _state.armed or not first:
        _state.armed = True
        raise Interrupted(signum)


def install(deferred: bool = False) -> None:
    """Route SIGINT, SIGTERM and SIGHUP to ``Interrupted`` (main thread only; a signal the
    parent set to be ignored, e.g. SIGHUP under ``nohup``, stays ignored).

    ``deferred``: record the first signal until ``arm()`` instead of raising it at once.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    _state.received, _state.armed = None, not deferred
    for name in _SIGNALS:
        signum = getattr(signal, name, None)
        if signum is None:
            continue  # SIGHUP does not exist on Windows
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        signal.signal(signum, _handler)


def arm() -> None:
    """From now on signals raise at once; a signal recorded while deferred raises now."""
    if not _state.armed:
        _state.armed = True
        if _state.received is not None:
            raise Interrupted(_state.received)


def received() -> Optional[int]:
    """The first stop signal received since ``install``, or None."""
    return _state.received


def exit_code(default: int = 130) -> int:
    """128 + the received signal's number (130 for Ctrl-C, 143 SIGTERM, 129 SIGHUP)."""
    return 128 + _state.received if _state.received else default
