"""The README's Python API snippet and the examples/ script run as written."""

import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _snippet() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.parametrize("size", [(1280, 720), (960, 540)])
def test_readme_snippet_runs_on_a_real_frame(shared_data, tmp_path, monkeypatch, size):
    real = cv2.imread(str(shared_data / "images" / "udacity-advanced" / "straight_lines1.jpg"))
    cv2.imwrite(str(tmp_path / "road.jpg"), cv2.resize(real, size, interpolation=cv2.INTER_AREA))
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(_snippet(), "README.md", "exec"), scope)  # noqa: S102 - our own README
    result, annotated = scope["result"], scope["annotated"]
    w, h = size
    assert annotated.shape == (h, w, 3) and not np.array_equal(annotated, scope["frame"])
    slots = {lane.slot: lane for lane in result.lanes}
    # the ego lines of this straight road: left of the centre for L1, right for R1, at the bottom
    assert {"L1", "R1"} <= set(slots)
    left, right = slots["L1"].x_at([0.95 * h])[0], slots["R1"].x_at([0.95 * h])[0]
    assert 0.05 * w < left < 0.4 * w and 0.6 * w < right < 0.95 * w


def test_one_detector_handles_frames_of_changing_size(shared_data):
    from lanecam import LaneDetector

    real = cv2.imread(str(shared_data / "images" / "udacity-advanced" / "straight_lines1.jpg"))
    detector = LaneDetector()
    big = detector(real)
    small = detector(cv2.resize(real, (960, 540), interpolation=cv2.INTER_AREA))
    # the same road at 3/4 scale: the ego lines at 3/4 of the x positions (within 2 % of width)
    for slot in ("L1", "R1"):
        xb = big.lane(slot).x_at([684.0])[0]
        xs = small.lane(slot).x_at([513.0])[0]
        assert abs(xs - 0.75 * xb) < 0.02 * 960


def test_example_script_annotates_a_video(shared_data, tmp_path):
    out = tmp_path / "annotated.mp4"
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "annotate_video.py"),
                           str(shared_data / "videos" / "udacity_vehicle_test.mp4"), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "38 frames ->" in proc.stdout and "frame 0: " in proc.stdout
    video = cv2.VideoCapture(str(out))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 38
