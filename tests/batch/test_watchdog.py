"""A local Ray ends with the ``lanecam batch`` driver even when the driver is SIGKILLed: the
watchdog ends the driver's Ray processes (the raylet's dashboard and runtime-env agents
otherwise stay for minutes), and after a normal shutdown it touches nothing."""

import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import write_video

psutil = pytest.importorskip("psutil")

# a driver that starts the watchdog, then a stand-in for a Ray agent (its title is ray::...)
_DRIVER = r'''
import subprocess, sys, time
from lanecam.pipeline.batch.watchdog import Watchdog

dog = Watchdog("/no/ray/here").start()
fake = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "ray::FakeAgent"],
                        start_new_session=True)
print(fake.pid, dog.proc.pid, flush=True)
time.sleep(1.5)   # the watchdog notes the driver's Ray processes every 0.5 s
if sys.argv[1] in ("stop", "close"):
    dog.stop(clean=sys.argv[1] == "stop")
print("ready", flush=True)
time.sleep(120)
'''


def _driver(mode):
    proc = subprocess.Popen([sys.executable, "-c", _DRIVER, mode], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    fake_pid, dog_pid = map(int, proc.stdout.readline().split())
    assert proc.stdout.readline().strip() == "ready"
    return proc, psutil.Process(fake_pid), dog_pid


@pytest.mark.skipif(os.name != "posix", reason="the watchdog is POSIX only")
def test_a_killed_driver_s_ray_processes_are_ended():
    proc, fake, dog_pid = _driver("kill")
    try:
        proc.kill()
        proc.wait()
        gone, alive = psutil.wait_procs([fake], timeout=10)
        assert not alive, "the driver's Ray process outlived it"
        assert not psutil.pid_exists(dog_pid) or psutil.wait_procs(
            [psutil.Process(dog_pid)], timeout=10)[1] == []
    finally:
        if fake.is_running():
            fake.kill()


@pytest.mark.skipif(os.name != "posix", reason="the watchdog is POSIX only")
def test_after_a_normal_shutdown_the_watchdog_kills_nothing():
    proc, fake, dog_pid = _driver("stop")
    try:
        assert not psutil.pid_exists(dog_pid) or psutil.Process(dog_pid).status() == "zombie"
        proc.kill()
        proc.wait()
        time.sleep(3)
        assert fake.is_running()
    finally:
        fake.kill()


@pytest.mark.skipif(os.name != "posix", reason="the watchdog is POSIX only")
def test_a_start_that_failed_has_what_ray_started_ended_at_once():
    proc, fake, _ = _driver("close")   # the driver lives on (and does not reap the fake)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and fake.is_running() and \
                fake.status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.1)
        assert not fake.is_running() or fake.status() == psutil.STATUS_ZOMBIE
        assert proc.poll() is None
    finally:
        proc.kill()
        if fake.is_running():
            fake.kill()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process tree")
def test_sigkill_of_the_batch_driver_leaves_no_ray_process(tmp_path):
    """The real thing: ``lanecam batch`` with its own local Ray, killed mid-video; every Ray
    process of that session (GCS, raylet, agents, workers) is gone within 20 s."""
    pytest.importorskip("ray")
    pytest.importorskip("pyarrow")
    video = write_video(tmp_path / "long.mp4", frames=3000)
    proc = subprocess.Popen([sys.executable, "-m", "lanecam", "batch", str(video), "--out",
                             str(tmp_path / "out"), "--quiet"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    driver = psutil.Process(proc.pid)

    def ray_processes():
        found = []
        for p in driver.children(recursive=True):
            try:
                text = " ".join([p.name(), *p.cmdline()])
            except psutil.Error:
                continue
            if "ray::" in text or f"{os.sep}ray{os.sep}" in text:
                found.append((p, text))
        return found

    found, deadline = [], time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        found = ray_processes()
        if any("VideoWorker" in text for _, text in found):
            break   # a worker is processing the video
        time.sleep(0.2)
    found = ray_processes()
    texts = " | ".join(text for _, text in found)
    try:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert "agent.py" in texts and "runtime_env" in texts and "raylet" in texts, texts
        proc.kill()
        proc.wait()
        _, alive = psutil.wait_procs([p for p, _ in found], timeout=20)
        assert not alive, [p.name() for p in alive]
    finally:
        for p, _ in found:
            try:
                p.kill()
            except psutil.Error:
                pass
