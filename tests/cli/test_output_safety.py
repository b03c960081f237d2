"""Outputs never overwrite an input or each other, and never appear half written."""

import hashlib
import json
import os

import cv2
import numpy as np
import pytest
from conftest import write_video

from lanecam.pipeline.cli import main


def _digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _run(capsys, *argv):
    rc = main(["run", *map(str, argv), "--quiet"])
    return rc, capsys.readouterr().err


@pytest.fixture()
def video(tmp_path):
    return write_video(tmp_path / "in.mp4", frames=6)


def _aliases(tmp_path, video):
    link = tmp_path / "link.mp4"
    link.symlink_to(video)
    hard = tmp_path / "hard.mp4"
    os.link(video, hard)
    return {"same path": video, "symlink": link, "hardlink": hard,
            "relative": os.path.relpath(video)}


@pytest.mark.parametrize("alias", ["same path", "symlink", "hardlink", "relative"])
@pytest.mark.parametrize("flag", ["-o", "--lanes", "--stats"])
def test_an_output_that_is_the_input_is_refused(tmp_path, capsys, video, tiny_model, flag,
                                                alias):
    before = _digest(video)
    target = _aliases(tmp_path, video)[alias]
    rc, err = _run(capsys, video, "--model", tiny_model, flag, target)
    assert rc == 2
    assert err.strip().splitlines()[-1].startswith(f"lanecam run: error: {flag} ")
    assert "is the input SOURCE" in err and "Traceback" not in err
    assert _digest(video) == before


def test_two_outputs_with_one_name_are_refused(tmp_path, capsys, video, tiny_model):
    out = tmp_path / "out.mp4"
    rc, err = _run(capsys, video, "--model", tiny_model, "-o", out, "--lanes", out)
    assert rc == 2 and "-o and --lanes are the same file" in err
    assert not out.exists()


def test_images_into_the_source_folder_are_refused(tmp_path, capsys, tiny_model):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((64, 96, 3), 40 * i, np.uint8))
    before = sorted(p.name for p in folder.iterdir())
    for target in (folder, folder / "annotated"):
        rc, err = _run(capsys, folder, "--model", tiny_model, "--images", target)
        assert rc == 2 and "would write into the input SOURCE" in err
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_failed_start_keeps_the_previous_outputs(tmp_path, capsys, video, tiny_model,
                                                   monkeypatch):
    lanes, out = tmp_path / "lanes.jsonl", tmp_path / "out.mp4"
    lanes.write_text('{"previous": 1}\n')
    out.write_bytes(b"previous video")
    # the window is opened after the video and lanes files: on a machine without a screen
    # it fails after they were opened
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    rc, err = _run(capsys, video, "--model", tiny_model, "--lanes", lanes, "-o", out,
                   "--display")
    assert rc == 2 and "display" in err.lower(), err
    assert lanes.read_text() == '{"previous": 1}\n' and out.read_bytes() == b"previous video"
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_outputs_appear_only_when_complete(tmp_path, capsys, video, tiny_model):
    lanes, out = tmp_path / "lanes.jsonl", tmp_path / "out.mp4"
    lanes.write_text("old\n")
    rc, err = _run(capsys, video, "--model", tiny_model, "--lanes", lanes, "-o", out)
    assert rc == 0, err
    assert [json.loads(x)["frame_id"] for x in lanes.read_text().splitlines()] == list(range(6))
    assert out.stat().st_size > 0
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused_at_start(tmp_path, capsys, video, tiny_model):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for flag in ("-o", "--stats", "--lanes"):
            rc, err = _run(capsys, video, "--model", tiny_model, flag, ro / "x.out")
            assert rc == 2 and f"{flag} {ro / 'x.out'}: output folder {ro} is not writable" in err
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("flag", ["--stats", "-o", "--lanes"])
def test_an_output_that_is_a_folder_is_refused_at_start(tmp_path, capsys, video, tiny_model,
                                                        flag):
    rc, err = _run(capsys, video, "--model", tiny_model, flag, tmp_path)
    assert rc == 2 and f"{flag} {tmp_path}: is a folder, expected a file name" in err


def test_stats_to_a_full_device_is_one_line(tmp_path, capsys, video, tiny_model):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    rc, err = _run(capsys, video, "--model", tiny_model, "--stats", "/dev/full")
    assert rc == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("lanecam run: error: --stats /dev/full: "
                                                   "cannot write")
