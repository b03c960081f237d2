"""``lanecam run`` under failure and Ctrl-C: exit codes, complete outputs, no traceback."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
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
    assert err.strip().splitlines() == [
        "lanecam run: error: stage 'source' failed: OSError: device unplugged"]
    # the frames before the failure were written and the file was closed properly
    assert [json.loads(x)["frame_id"] for x in lanes.read_text().splitlines()] == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_ctrl_c_leaves_a_playable_output_with_the_frames_so_far(tmp_path, tiny_model):
    av = pytest.importorskip("av")
    video = write_video(tmp_path / "long.mp4", frames=3000, width=320, height=192)
    out, lanes = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanecam", "run", str(video), "--model", str(tiny_model),
         "-o", str(out), "--lanes", str(lanes), "--quiet", "--threads", "1"],
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"),
        # a pytest started in the background ignores SIGINT and its children inherit that:
        # give the child the default disposition, as a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until frames are being written
            if lanes.exists() and lanes.stat().st_size > 2000:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    ids = [json.loads(x)["frame_id"] for x in lanes.read_text().splitlines()]
    assert 0 < len(ids) < 3000 and ids == list(range(len(ids)))
    with av.open(str(out)) as c:
        decoded = sum(1 for _ in c.decode(c.streams.video[0]))
    assert decoded == len(ids)
