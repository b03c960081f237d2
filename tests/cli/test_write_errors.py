"""A failed write names what the user typed: the flag and its path (issue 25 #14).

Before: ``--lanes /dev/full`` ended with "stage 'sink' failed: OSError: [Errno 28] No space
left on device" (no flag, no path), and a full disk under ``-o`` named the hidden temporary
file (``.out.partial-PID.mp4``) instead of the ``-o`` path. A full disk is stood in for by a
file-size limit (``RLIMIT_FSIZE``: writes past it fail with EFBIG, as Python ignores SIGXFSZ).
"""

import os
import subprocess
import sys

import pytest

from lanecam.pipeline.cli import main

SOURCE = "synthetic://?frames=200&width=320&height=240"


def test_lanes_to_a_full_device_names_the_flag_and_path(capsys):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    rc = main(["run", "synthetic://?frames=3&width=64&height=48", "--lanes", "/dev/full",
               "--quiet"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].endswith("--lanes /dev/full: cannot write (No space left on device)"), err


@pytest.mark.parametrize("flag, name", [("-o", "out.mp4"), ("--lanes", "lanes.jsonl")])
def test_a_full_disk_names_the_output_not_its_temporary_file(tmp_path, flag, name):
    resource = pytest.importorskip("resource")
    if flag == "-o":
        pytest.importorskip("av")   # the OpenCV writer reports nothing at all

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / name
    res = subprocess.run([sys.executable, "-m", "lanecam", "run", SOURCE, flag, str(out),
                          "--quiet"], preexec_fn=small_files, capture_output=True, text=True,
                         timeout=300)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert f"{flag} {out}: cannot write (File too large)" in lines[-1], res.stderr
    assert "partial" not in res.stderr
    assert sorted(os.listdir(tmp_path)) == []   # neither the output nor its temporary file
