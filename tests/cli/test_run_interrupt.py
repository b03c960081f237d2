"""``lanecam run`` under failure and Ctrl-C: exit codes, complete outputs, no traceback."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lanecam.pipeline import sources as pipeline_sources
from lanecam.pipeline.cli import main
from lanecam.pipeline.sources.base import ReadStatus, Source

from conftest import write_video


class _FailingSource(Source):
    """Frames until ``fail_at``, then a read that raises (a camera unplugged)."""

    def __init__(self, fail_at=5):
        super().__init__("failing://cam")
        self.width, self.height, self.fps, self.fail_at, self.i = 96, 64, 25.0, fail_at, 0

    def _open(self):
        pass

    def _read(self, out, timeout):
        if self.i == self.fail_at:
            raise OSError("device unplugged")
        self.i += 1
        out[...] = self.i
        return ReadStatus.OK, out, self.i / self.fps


def test_a_stage_failure_is_exit_1_naming_the_stage(tmp_path, capsys, monkeypatch, tiny_model):
    monkeypatch.setattr(pipeline_sources, "open_source", lambda uri, **kw: _FailingSource())
    lanes = tmp_path / "l.jsonl"
    rc = main(["run", "failing://cam", "--model", str(tiny_model), "--lanes", str(lanes),
               "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1
    # the flat test frames also get the "no road" trust warning line; the error is the point here
    assert [line for line in err.strip().splitlines() if "warning:" not in line] == [
        "lanecam run: error: stage 'source' failed: OSError: device unplugged"]
    # the frames before the failure were written and the file was closed properly
    assert [json.loads(x)["frame_id"] for x in lanes.read_text().splitlines()] == [0, 1, 2, 3, 4]


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                          (signal.SIGHUP, 129)])
def test_a_stop_signal_leaves_a_playable_output_with_the_frames_so_far(tmp_path, tiny_model,
                                                                        signum, code):
    av = pytest.importorskip("av")
    video = write_video(tmp_path / "long.mp4", frames=3000, width=320, height=192)
    out, lanes = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanecam", "run", str(video), "--model", str(tiny_model),
         "-o", str(out), "--lanes", str(lanes), "--quiet", "--threads", "1"],
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"),
        # a pytest started in the background ignores SIGINT and its children inherit that:
        # give the child the default disposition, as a terminal would
        preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT,
                                                                        signal.SIGHUP)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until frames are being written
            partial = list(tmp_path.glob(".out.partial-*.jsonl"))  # renamed when complete
            if partial and partial[0].stat().st_size > 2000:
                assert not lanes.exists()
                break
            time.sleep(0.05)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert f"interrupted by {signal.Signals(signum).name}" in err
    ids = [json.loads(x)["frame_id"] for x in lanes.read_text().splitlines()]
    assert 0 < len(ids) < 3000 and ids == list(range(len(ids)))
    with av.open(str(out)) as c:
        decoded = sum(1 for _ in c.decode(c.streams.video[0]))
    assert decoded == len(ids)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.05, 0.2, 0.4, 0.7, 1.0])
def test_ctrl_c_while_starting_is_one_line_and_leaves_no_partial_file(tmp_path, tiny_model,
                                                                     delay):
    video = write_video(tmp_path / "in.mp4", frames=200, width=160, height=96)
    out, lanes = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanecam", "run", str(video), "--model", str(tiny_model),
         "-o", str(out), "--lanes", str(lanes), "--quiet"],
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    # 0: it had already finished; -SIGINT: the signal came before the interpreter had set up
    # its own handler (nothing of lanecam ran, nothing was opened)
    if proc.returncode == 1 and "init_import_site" in err:
        # on a loaded machine the signal can land while CPython itself still imports its site
        # module, which it reports as a fatal error of its own: lanecam had not started
        assert not out.exists() and not lanes.exists()
        return
    assert proc.returncode in (0, 130, -signal.SIGINT), err
    assert "Traceback" not in err and "terminate called" not in err
    assert "is not installed" not in err
    assert not list(tmp_path.glob(".*partial*")), "a temporary output was left behind"
    if lanes.exists():  # outputs are complete or absent, and agree
        n = len(lanes.read_text().splitlines())
        av = pytest.importorskip("av")
        with av.open(str(out)) as c:
            assert sum(1 for _ in c.decode(c.streams.video[0])) == n


# A child that sends itself SIGINT the moment ``target`` is first imported: a Ctrl-C at exactly
# that point of start-up, every time (a timer only hits it now and then)
_TRIP = r'''
import os, runpy, signal, sys

target = sys.argv[1]


class Trip:
    def find_spec(self, name, path=None, module=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, Trip())
sys.argv = ["lanecam", "run", "synthetic://?frames=3", "--quiet"]
runpy.run_module("lanecam", run_name="__main__", alter_sys=True)
'''


_ROOT = Path(__file__).resolve().parents[2]   # the checkout: its files in a traceback are ours


def _default_sigint():
    # a pytest started in the background ignores SIGINT and its children inherit that
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("target", ["lanecam.pipeline.cli", "lanecam.pipeline.errors",
                                    "lanecam.pipeline.signals"])
def test_ctrl_c_while_the_command_is_imported_is_one_line_and_130(target):
    proc = subprocess.run([sys.executable, "-c", _TRIP, target], capture_output=True,
                          text=True, timeout=120, preexec_fn=_default_sigint)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip() == "lanecam run: interrupted (SIGINT)", proc.stderr


def test_ctrl_c_at_early_delays_never_prints_a_traceback():
    """SIGINT 0.02 to 0.3 s after ``lanecam run`` starts: exit 130 with one line (or, before
    Python has its own handler, killed by the signal, with nothing printed)."""
    seen = []
    for delay in (0.02, 0.05, 0.08, 0.11, 0.14, 0.2, 0.3):
        proc = subprocess.Popen([sys.executable, "-m", "lanecam", "run",
                                 "synthetic://?frames=100000", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_default_sigint)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        if "Traceback" in err and str(_ROOT) not in err:
            continue  # in CPython's own start-up or runpy, before any code of ours ran
        seen.append(proc.returncode)
        assert "Traceback" not in err, (delay, err)
        assert proc.returncode in (130, -signal.SIGINT), (delay, proc.returncode, err)
        if proc.returncode == 130:
            assert len(err.strip().splitlines()) == 1, (delay, err)
    assert 130 in seen
