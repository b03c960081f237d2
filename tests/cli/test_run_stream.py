"""``lanecam run`` on finite HTTP sources: the run ends with the clip (exit 0, every frame once);
the stream timeouts are flags and config keys, bounded, and refused for a source that is not a
stream."""

import json

import pytest

from lanecam.pipeline.cli import main
from tests.sources.file_server import FileServer
from tests.sources.media import write_hls, write_video

FRAMES = 21


def _run(capsys, *argv):
    rc = main(["run", *map(str, argv)])
    return rc, capsys.readouterr().err


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("av")
    folder = tmp_path_factory.mktemp("served")
    write_video(folder / "clip.mp4", FRAMES)
    write_hls(folder, FRAMES, name="vod")
    with FileServer(folder) as served:
        yield served


def _frames_in(path):
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


@pytest.mark.parametrize("name", ["clip.mp4", "vod.m3u8"])
def test_a_finite_http_source_ends_with_its_last_frame(tmp_path, capsys, server, tiny_model,
                                                        name):
    out, lanes, stats = tmp_path / "out.mp4", tmp_path / "l.jsonl", tmp_path / "s.json"
    before = server.requests[name]
    rc, err = _run(capsys, server.url(name), "--model", tiny_model, "-o", out, "--lanes", lanes,
                   "--stats", stats, "--quiet", "--read-timeout", 2)
    assert rc == 0, err
    ids = [json.loads(line)["frame_id"] for line in lanes.read_text().splitlines()]
    assert ids == list(range(FRAMES))  # the clip once: not replayed, nothing dropped
    assert _frames_in(out) == FRAMES
    assert json.loads(stats.read_text())["dropped"] == 0
    # two connections: the first tells the clip's length, the second reads it from frame 0
    assert server.requests[name] - before <= 4
    assert "reconnect" not in err


def test_stream_timeouts_come_from_the_config_file(tmp_path, capsys, server, tiny_model):
    lanes = tmp_path / "l.jsonl"
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'source = "{server.url("clip.mp4")}"\nmodel = "{tiny_model}"\n'
                   f'lanes = "{lanes}"\nquiet = true\nopen-timeout = 3\nread_timeout = 2.5\n'
                   'max-backoff = 1\ngive-up-after = 30\n')
    rc, err = _run(capsys, "--config", cfg)
    assert rc == 0, err
    assert len(lanes.read_text().splitlines()) == FRAMES


@pytest.mark.parametrize("argv, match", [
    (["--max-backoff", "0.1"], "--max-backoff expects a value between 0.25 and 600"),
    (["--open-timeout", "0"], "--open-timeout expects a value between 0.1 and 600"),
    (["--give-up-after", "-1"], "--give-up-after expects a value between 0"),
])
def test_stream_timeouts_out_of_range_are_one_line(capsys, argv, match):
    rc, err = _run(capsys, "rtsp://camera.invalid/x", *argv)
    assert rc == 2 and match in err, err


def test_stream_timeouts_for_a_file_are_refused(tmp_path, capsys, small_video):
    rc, err = _run(capsys, small_video, "--read-timeout", 2, "--give-up-after", 5)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--read-timeout, --give-up-after: only for rtsp://" in lines[0]
    assert str(small_video) in lines[0]


def test_bench_takes_the_stream_timeouts_too(capsys, small_video):
    rc = main(["bench", str(small_video), "--max-backoff", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and "--max-backoff: only for rtsp://" in err


def test_a_stalled_stream_prints_our_lines_and_no_opencv_warnings(tmp_path, tiny_model):
    """A camera that sends a few frames then hangs (connection open, silent): each stall is
    our "stream dropped; reconnecting" line, without OpenCV's ``[ WARN ]`` "Stream timeout
    triggered" line beside it."""
    import signal
    import subprocess
    import sys
    import time

    from tests.sources.mjpeg_server import FakeMjpegCamera

    cam = FakeMjpegCamera(fps=30, frames_per_connection=5, stall=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanecam", "run", cam.url, "--model", str(tiny_model),
         "--read-timeout", "0.5", "--quiet", "--lanes", str(tmp_path / "l.jsonl")],
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the first stall was noticed and mended
            line = proc.stderr.readline()
            lines.append(line)
            if not line or "reconnected" in line:
                break
        proc.send_signal(signal.SIGINT)
        lines += proc.communicate(timeout=30)[1].splitlines(keepends=True)
    finally:
        if proc.poll() is None:
            proc.kill()
        cam.stop()
    err = "".join(lines)
    assert "stream dropped; reconnecting" in err and "reconnected after" in err, err
    assert "[ WARN" not in err and "Traceback" not in err, err
    assert proc.returncode == 130, err
