"""Profiles and previews are never written over an input, and never half: ``save_profile``
writes under a temporary name and renames (a failed write keeps the previous profile), and
``lanecam birdseye`` checks -o / --preview against --frame and the profile before any work."""

import errno
import math
import os

import cv2
import numpy as np
import pytest

from lanecam.calibration import Profile, load_profile, save_profile
from lanecam.pipeline import outputs
from lanecam.pipeline.cli import main
from lanecam.pipeline.errors import LanecamError

K = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
POSE = f"1.5,{math.degrees(0.07):.3f}"


def _profile(path):
    return save_profile(Profile((1280, 720), K, np.zeros(5), extra={"rms": 0.5}), path)


def test_a_failed_profile_write_keeps_the_previous_profile(tmp_path, monkeypatch):
    path = _profile(tmp_path / "cam.json")
    before = path.read_bytes()

    class FullDisk:
        """A file whose write stops half way with ENOSPC."""

        def __init__(self, name, mode, **kwargs):
            self._fh = open(name, mode, **kwargs)

        def write(self, data):
            self._fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

    monkeypatch.setattr(outputs, "open", FullDisk, raising=False)
    changed = Profile((1280, 720), K * 2, np.zeros(5))
    with pytest.raises(LanecamError, match="No space left on device") as info:
        save_profile(changed, path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["cam.json"]  # no temporary file left


def test_birdseye_updates_the_profile_in_place_whole(tmp_path):
    path = _profile(tmp_path / "cam.json")
    assert main(["birdseye", str(path), "--pose", POSE]) == 0
    assert load_profile(path).birdseye.method == "pose"
    assert load_profile(path).extra["rms"] == 0.5
    assert [p.name for p in tmp_path.iterdir()] == ["cam.json"]


@pytest.mark.parametrize("make_args", [
    lambda d: ["-o", str(d / "link.json")],          # -o: a symlink to the frame
    lambda d: ["--preview", str(d / "road.png")],    # --preview: the frame itself
    lambda d: ["--preview", str(d / "sub" / ".." / "road.png")],  # ... spelt otherwise
    lambda d: ["--preview", str(d / "cam_link.png")],  # --preview: a hard link to the profile
])
def test_birdseye_outputs_never_overwrite_an_input(tmp_path, capsys, make_args):
    path = _profile(tmp_path / "cam.json")
    frame = tmp_path / "road.png"
    cv2.imwrite(str(frame), np.full((720, 1280, 3), 90, np.uint8))
    (tmp_path / "sub").mkdir()
    os.symlink(frame, tmp_path / "link.json")
    os.link(path, tmp_path / "cam_link.png")
    before = {p: p.read_bytes() for p in (path, frame)}
    rc = main(["birdseye", str(path), "--frame", str(frame), "--pose", POSE,
               *make_args(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "is the input" in err, err
    assert len(err.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in before} == before


def test_birdseye_preview_must_be_an_image_name(tmp_path, capsys):
    path = _profile(tmp_path / "cam.json")
    before = path.read_bytes()
    rc = main(["birdseye", str(path), "--pose", POSE, "--preview", str(tmp_path / "p.txt")])
    assert rc == 2 and "--preview" in capsys.readouterr().err
    assert path.read_bytes() == before  # refused before the profile was touched
