"""Faults on a two-node Ray cluster on this machine (``ray.cluster_utils.Cluster``): a worker
killed in the middle of a video, and a stop signal in the middle of a job."""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from .conftest import decoded_frames, write_video

pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def cluster():
    """A head and a second node of one CPU each: two CPUs in all, as on CI."""
    cluster_utils = pytest.importorskip("ray.cluster_utils")
    c = cluster_utils.Cluster(initialize_head=True,
                              head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    yield c
    c.shutdown()


def _start(cluster, out, *inputs, extra=()):
    argv = [sys.executable, "-m", "lanecam", "batch", *map(str, inputs), "--out", str(out),
            "--address", cluster.address, "--jsonl", "--quiet", *extra]
    return subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)


def _writing(out, name, lines):
    """(pid, lines) of the worker writing the JSON lines of video ``name`` once it has
    written at least ``lines`` lines (the PID is in the temporary file's name), else None."""
    for partial in (out / ".staging" / "jsonl").glob(f".{name}-*.partial-*.jsonl"):
        try:
            count = partial.read_bytes().count(b"\n")
        except FileNotFoundError:
            continue  # renamed meanwhile
        if count >= lines:
            return int(re.search(r"partial-(\d+)", partial.name).group(1)), count
    return None


def _wait_for(proc, test, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        found = test()
        if found:
            return found
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"gave up waiting; the job said: {proc.communicate()[1][-2000:]}")


def _summary(out):
    with open(out / "summary.csv", newline="") as fh:
        return {os.path.basename(row["path"]): row for row in csv.DictReader(fh)}


def _hidden(out):
    """Temporary files left anywhere in the output folder (none may be)."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()
                  and (p.name.startswith(".") or ".staging" in p.parts))


def test_a_worker_killed_during_a_video_is_replaced_and_the_rows_stay_exact(tmp_path, cluster):
    long = write_video(tmp_path / "long.mp4", frames=400)
    short = write_video(tmp_path / "short.mp4", frames=30)
    out = tmp_path / "out"
    proc = _start(cluster, out, long, short)
    pid, lines = _wait_for(proc, lambda: _writing(out, "long", 40))
    # mid-video, what readers glob holds finished files only ('OUT/lanes/*.parquet')
    assert all(not p.name.startswith(".") for p in (out / "lanes").iterdir())
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    summary = _summary(out)
    row = summary["long.mp4"]
    assert row["status"] == "done" and row["attempts"] == "2" and lines < 400
    table = pq.read_table(out / row["lanes_file"])
    assert table.column("frame_id").to_pylist() == list(range(400)) == \
        list(range(decoded_frames(long)))
    jsonl = (out / "jsonl" / f"{row['video_id']}.jsonl").read_text().splitlines()
    assert [json.loads(x)["frame_id"] for x in jsonl] == list(range(400))
    assert summary["short.mp4"]["status"] == "done" and summary["short.mp4"]["frames"] == "30"
    assert _hidden(out) == []  # the killed attempt's temporary files were removed


def test_a_stop_signal_keeps_the_finished_videos_and_a_rerun_does_the_rest(tmp_path, cluster):
    long = write_video(tmp_path / "long.mp4", frames=300)
    medium = write_video(tmp_path / "medium.mp4", frames=200)
    out = tmp_path / "out"
    # one video at a time, the largest first: long is done when medium is being written
    proc = _start(cluster, out, medium, long, extra=["--max-concurrency", "1"])
    _wait_for(proc, lambda: _writing(out, "medium", 20))
    # SIGTERM (docker stop, systemd, a scheduler's time limit) stops like Ctrl-C; it is the
    # signal at risk: ray.init replaces its handler, the command puts its own back
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    summary = _summary(out)
    assert summary["long.mp4"]["status"] == "done"
    assert summary["medium.mp4"]["status"] == "interrupted"
    assert sorted(p.name for p in (out / "lanes").iterdir()) == \
        [f"{summary['long.mp4']['video_id']}.parquet"]
    assert _hidden(out) == []

    proc = _start(cluster, out, medium, long)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    summary = _summary(out)
    assert summary["long.mp4"]["status"] == "skipped"
    assert summary["medium.mp4"]["status"] == "done"
    assert pq.read_table(out / summary["medium.mp4"]["lanes_file"]).num_rows == 200
