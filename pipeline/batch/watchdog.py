"""The local Ray of ``lanecam batch`` ends with the driver, even when the driver is killed.

``ray.init(address="local")`` starts the GCS, the raylet, the API server and the monitors as
children of the driver and ties them to it (Ray's fate sharing: Linux ``PR_SET_PDEATHSIG``),
but the raylet starts its dashboard agent and runtime-env agent without it. After a SIGKILL of
the driver those two (about 170 MB) notice within a second that the raylet died ("Raylet is
dead! Exiting" in their logs) and then stay for a minute or more, seemingly waiting on the dead
GCS to report the raylet's last log lines (Ray 2.60, measured here). A SIGKILL cannot be
caught, so the driver cannot clean up after itself; this watchdog does it.

``Watchdog.start()`` runs this file as a small separate process (stdlib and psutil only, in
its own session so a Ctrl-C meant for the driver does not reach it) *before* Ray starts. It
reads a pipe whose write end only the driver holds (non-inheritable: Ray's processes never
get it). Every half second it notes the driver's descendants that are Ray's (their command
line is in the ``ray`` package, or their title is ``ray::...``). When the pipe reaches its end
without a "stop" (the kernel closes it when the driver dies, however it dies), it ends every
noted process still running: SIGTERM, then SIGKILL after two seconds. After a normal
``ray.shutdown()`` the driver sends "stop" and the watchdog exits without touching anything;
after a failed or interrupted start it closes the pipe without "stop", and the watchdog ends
what Ray had started.
"""

import os
import select
import signal
import subprocess
import sys
from typing import Optional

__all__ = ["Watchdog", "GRACE_S", "POLL_S"]

POLL_S = 0.5      # how often the driver's Ray processes are noted
GRACE_S = 2.0     # between SIGTERM and SIGKILL of what was left


class Watchdog:
    """The driver's side: start the watchdog process, tell it the job ended normally.

    Args:
        ray_dir: the ``ray`` package folder (its processes' command lines are in it).
    """

    def __init__(self, ray_dir: str):
        self.ray_dir = ray_dir
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "Watchdog":
        """Start the watchdog of this process (POSIX only: elsewhere it does nothing)."""
        if os.name != "posix":
            return self
        try:
            self.proc = subprocess.Popen(
                # -I: nothing but the standard library and site-packages on its path
                [sys.executable, "-I", os.path.abspath(__file__), str(os.getpid()),
                 self.ray_dir],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
        except OSError:
            self.proc = None   # no watchdog is no worse than before it existed
        return self

    def stop(self, clean: bool = True) -> None:
        """``clean``: Ray was shut down normally, the watchdog exits and kills nothing.
        Otherwise (Ray failed or was interrupted while starting) it ends now what Ray had
        started, as if the driver had died."""
        if self.proc is None:
            return
        try:
            if clean:
                self.proc.stdin.write(b"stop\n")
            self.proc.stdin.close()
            if clean:
                self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.proc = None


def _is_ray(proc, ray_dir: str) -> bool:
    try:
        cmdline = proc.cmdline()
        name = proc.name()
    except Exception:  # noqa: BLE001 - gone or not ours to read
        return False
    return name.startswith("ray::") or any(
        part.startswith("ray::") or ray_dir in part for part in cmdline)


def _end(noted: dict) -> None:
    """SIGTERM every noted process still running (psutil checks it is the same process, not a
    reused pid), then SIGKILL what is left after ``GRACE_S``."""
    import psutil

    alive = [p for p in noted.values() if p.is_running()]
    for p in alive:
        try:
            alive += [c for c in p.children(recursive=True) if c.pid not in noted]
        except psutil.Error:
            pass
    for p in alive:
        try:
            p.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
    _, left = psutil.wait_procs(alive, timeout=GRACE_S)
    for p in left:
        try:
            p.kill()
        except psutil.Error:
            pass


def watch(driver_pid: int, ray_dir: str, fd: int = 0) -> int:
    """Note the Ray processes of ``driver_pid`` until ``fd`` ends; end them unless told
    "stop" first. Returns the number of processes noted."""
    import psutil

    try:
        driver = psutil.Process(driver_pid)
    except psutil.Error:
        return 0
    noted, me, said = {}, os.getpid(), b""
    while True:
        ready, _, _ = select.select([fd], [], [], POLL_S)
        if ready:
            data = os.read(fd, 64)
            said += data
            if not data or b"stop" in said:
                break
        try:
            for child in driver.children(recursive=True):
                if child.pid != me and child.pid not in noted and _is_ray(child, ray_dir):
                    noted[child.pid] = child
        except psutil.Error:
            break  # the driver is gone
    if b"stop" not in said:
        _end(noted)
    return len(noted)


def _main(argv) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the driver's business, not ours
    signal.signal(signal.SIGHUP, signal.SIG_IGN)   # a closed terminal: wait for the driver
    watch(int(argv[1]), argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
