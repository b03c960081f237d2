"""A stop signal sent to ``lanecam train``'s whole process group (``timeout``, ``kill -- -PGID``,
a closing terminal) stops the run as one sent to the main process does: one line, 128 + the
signal, no process left behind. The sample workers used to die of the signal and leave the
main process waiting for them for good."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")

pytestmark = [pytest.mark.slow, pytest.mark.tf]

# a small run on renderer frames only: no data folder needed, the workers busy from the start
QUICK = ["--epochs", "1", "--steps", "400", "--batch", "2", "--workers", "2", "--val-count",
         "2", "--synthetic-eval", "0", "--threshold-frames", "0"]


def _group(pgid: int):
    """The pids of process group ``pgid`` still alive (Linux ``/proc``), zombies left out."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(status.parent.name))
    return pids


def _default_stop_signals() -> None:
    """In the child before exec: SIGHUP as a terminal session has it. Under ``nohup`` (a CI
    runner started that way) it is inherited ignored, and lanecam rightly leaves an ignored
    signal ignored, so the test would not be sending what it means to send."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _workers_started(proc, limit=120.0) -> bool:
    """Wait until the run has its two sample workers and a training step is past."""
    start = time.monotonic()
    while time.monotonic() - start < limit and proc.poll() is None:
        if len(_group(proc.pid)) >= 4:   # main, resource tracker, two workers
            time.sleep(8)               # into the epoch: batches in flight
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_process_group_stops_the_run(tmp_path, signum):
    proc = subprocess.Popen([sys.executable, "-m", "lanecam", "train", *QUICK,
                             "--out", str(tmp_path / "run")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_default_stop_signals)
    try:
        assert _workers_started(proc), "the run did not start its workers"
        os.killpg(proc.pid, signum)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    name = signal.Signals(signum).name
    assert proc.returncode == 128 + signum, err[-2000:]
    assert f"interrupted ({name})" in err and "Traceback" not in err, err[-2000:]
    deadline = time.monotonic() + 10
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group(proc.pid), "processes of the run outlived it"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux /proc")
def test_workers_do_not_outlive_a_killed_main_process(tmp_path):
    """SIGKILL to the main process alone (the out-of-memory killer): its workers, which
    leave stopping to their parent, notice it is gone and exit."""
    proc = subprocess.Popen([sys.executable, "-m", "lanecam", "train", *QUICK,
                             "--out", str(tmp_path / "run")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert _workers_started(proc), "the run did not start its workers"
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group(proc.pid), "workers outlived their killed parent"
    finally:
        if _group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)


def _workers(pid: int):
    """The pids of ``pid``'s sample workers (multiprocessing's spawned children)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"spawn_main" not in cmdline.read_bytes():
                continue
            stat = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            found.append(int(cmdline.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux /proc")
def test_a_worker_ignores_sigterm_from_anyone_but_its_parent(tmp_path):
    """Every thread of a worker blocks SIGTERM but the one that checks who sent it: before,
    a thread numpy started at import left it unblocked, and any SIGTERM killed the worker."""
    proc = subprocess.Popen([sys.executable, "-m", "lanecam", "train", *QUICK,
                             "--out", str(tmp_path / "run")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert _workers_started(proc), "the run did not start its workers"
        workers = _workers(proc.pid)
        assert len(workers) == 2, workers
        for pid in workers:
            os.kill(pid, signal.SIGTERM)     # from the test, not from the parent
        time.sleep(3)
        assert proc.poll() is None and sorted(_workers(proc.pid)) == sorted(workers)
        proc.send_signal(signal.SIGTERM)     # the run itself still stops as it should
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 143 and "interrupted (SIGTERM)" in err, err[-2000:]
