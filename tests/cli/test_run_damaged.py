"""``lanecam run`` end to end on damaged input: every readable frame or image is processed and
written, the damage is named on stderr and in --stats, and the run exits 2 (bad input)."""

import json

import cv2
import numpy as np
import pytest

from conftest import write_video
from lanecam.pipeline.cli import main
from tests.sources.media import decodable_frames

FRAMES = 60


def _run(capsys, *argv):
    rc = main(["run", *map(str, argv)])
    return rc, capsys.readouterr().err


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _stripes(i, width=160, height=96):
    x = np.arange(width)
    row = (((x + 3 * i) // 8) % 2 * 200).astype(np.uint8)
    return np.repeat(np.repeat(row[None, :, None], height, 0), 3, 2)


def test_a_video_damaged_in_the_middle_keeps_every_decodable_frame(tmp_path, capsys,
                                                                   tiny_model):
    pytest.importorskip("av")
    video = write_video(tmp_path / "drive.mp4", frames=FRAMES)
    data = bytearray(video.read_bytes())
    start, size = int(len(data) * 0.4), len(data) // 5  # 20 % of the bytes, mid-file
    data[start:start + size] = bytes(size)
    video.write_bytes(bytes(data))
    before = video.read_bytes()
    decodable = decodable_frames(video)
    assert 0 < decodable < FRAMES  # the damage really cost frames, and not all of them

    out, lanes, stats = tmp_path / "out.mp4", tmp_path / "lanes.jsonl", tmp_path / "stats.json"
    rc, err = _run(capsys, video, "--model", tiny_model, "-o", out, "--lanes", lanes,
                   "--stats", stats, "--quiet", "--threads", 1)
    assert rc == 2, err
    lines = _lines(lanes)
    # the outputs agree with each other and with what FFmpeg itself can decode
    assert len(lines) == decodable
    assert decodable_frames(out) == decodable
    assert [line["frame_id"] for line in lines] == list(range(decodable))
    report = json.loads(stats.read_text())["source"]
    assert report["skipped"] == FRAMES - decodable
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(video) in errors[0]
    for first, last in report["ranges"]:  # each skipped range is named
        assert (f"{first}-{last}" if last > first else str(first)) in errors[0]
    assert f"the outputs hold the other {decodable}" in errors[0]
    assert video.read_bytes() == before


def test_an_image_folder_with_a_bad_and_an_odd_sized_image(tmp_path, capsys, caplog,
                                                          tiny_model):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        image = _stripes(i)
        if i == 4:
            image = cv2.resize(image, (200, 120))  # another size: resized, not fatal
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    (folder / "002.png").write_bytes(b"not an image")
    lanes, images = tmp_path / "lanes.jsonl", tmp_path / "annotated"
    rc, err = _run(capsys, folder, "--model", tiny_model, "--lanes", lanes, "--images", images,
                   "--quiet", "--threads", 1)
    assert rc == 2, err
    names = [line["source_name"] for line in _lines(lanes)]
    assert names == ["000.png", "001.png", "003.png", "004.png", "005.png"]
    assert len(list(images.iterdir())) == 5
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "002.png" in errors[0] and "skipped 1" in errors[0]
    said = [r.getMessage() for r in caplog.records if "004.png" in r.getMessage()]
    assert len(said) == 1 and "resized" in said[0]  # the odd size is said, once


def _lanecam_run(*argv):
    """``python -m lanecam run ...`` as a user runs it: (exit status, stderr)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "lanecam", "run", *map(str, argv)],
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stderr


def test_the_command_on_a_damaged_video_exits_2_with_every_decodable_frame(tmp_path,
                                                                          tiny_model):
    """The same as above through the real command (a separate process): exit status 2, the
    damage in one error line, no traceback, every decodable frame in both outputs."""
    pytest.importorskip("av")
    video = write_video(tmp_path / "drive.mp4", frames=FRAMES)
    data = bytearray(video.read_bytes())
    start, size = int(len(data) * 0.4), len(data) // 5
    data[start:start + size] = bytes(size)
    video.write_bytes(bytes(data))
    decodable = decodable_frames(video)
    out, lanes = tmp_path / "out.mp4", tmp_path / "lanes.jsonl"
    rc, err = _lanecam_run(video, "--model", tiny_model, "-o", out, "--lanes", lanes,
                           "--quiet", "--threads", 1)
    assert rc == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("lanecam run: error: ")]
    assert len(errors) == 1 and str(video) in errors[0], err
    assert len(_lines(lanes)) == decodable == decodable_frames(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.mp4", "lanes.jsonl",
                                                         "out.mp4"]


def test_the_command_on_an_image_folder_with_a_bad_image_exits_2_naming_it(tmp_path,
                                                                          tiny_model):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(5):
        cv2.imwrite(str(folder / f"{i:03d}.jpg"), _stripes(i))
    (folder / "003.jpg").write_bytes(b"\xff\xd8 a JPEG cut short")
    lanes = tmp_path / "lanes.jsonl"
    rc, err = _lanecam_run(folder, "--model", tiny_model, "--lanes", lanes, "--quiet")
    assert rc == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("lanecam run: error: ")]
    assert len(errors) == 1 and "003.jpg" in errors[0] and "skipped 1" in errors[0], err
    assert [row["source_name"] for row in _lines(lanes)] == ["000.jpg", "001.jpg", "002.jpg",
                                                             "004.jpg"]
