"""Trust signals: warnings for inputs outside what the model knows, and no lanes on frames that
show no road (black, blank, blown out)."""

import json
import re
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from lanecam.pipeline.data_paths import data_path
from lanecam.pipeline.trust import (FLAT_SPREAD, WARNING_TEXT, InputChecks, frame_percentiles,
                                    is_no_road)


def _no_road_frames(n=60, size=(1280, 720)):
    """Generated black, blank (one flat colour) and blown-out frames with sensor noise."""
    rng = np.random.default_rng(0)
    w, h = size
    for i in range(n):
        kind = ("black", "blank", "blown")[i % 3]
        if kind == "black":
            base = rng.uniform(0, 20, 3)
        elif kind == "blank":
            base = rng.uniform(0, 255, 3)
        else:
            base = rng.uniform(238, 255, 3)
        noise = rng.normal(0, rng.uniform(0.5, 2.5), (h, w, 1))
        yield kind, np.clip(base[None, None, :] + noise, 0, 255).astype(np.uint8)


def test_every_black_blank_and_blown_out_frame_is_no_road():
    kinds = [k for k, f in _no_road_frames() if not is_no_road(f, 0.3)]
    assert kinds == []


def _painted_road(base, paint, w=1280, h=720):
    """Two bright lane lines running to a vanishing point on a ``base`` grey frame (noise
    sigma 1.5); ``base`` is a callable drawing extra regions on it."""
    rng = np.random.default_rng(5)
    frame = np.clip(rng.normal(0, 1.5, (h, w, 1)), -4, 4).repeat(3, 2)
    frame = base(frame, w, h)
    for x in (0.2 * w, 0.8 * w):
        top = (int(0.5 * w + (x - 0.5 * w) * 0.05), int(0.45 * h))
        cv2.line(frame, (int(x), h - 1), top, (paint,) * 3, 16)
    return np.clip(frame, 0, 255).astype(np.uint8)


def _night(frame, w, h):
    frame += 4.0
    # the low beams light a trapezoid of road just above the bonnet; the rest is black
    beam = np.array([[0.3 * w, 0.78 * h], [0.7 * w, 0.78 * h], [0.95 * w, h], [0.05 * w, h]])
    cv2.fillPoly(frame, [beam.astype(np.int32)], (40.0, 40.0, 40.0))
    return frame


def test_night_frame_with_bright_paint_is_a_road():
    # black but for the lit patch and the (reflective) paint: 95 % of the band is within a few
    # grey levels, the paint is in the top few percent
    frame = _painted_road(_night, 210)
    p5, p95, p99 = frame_percentiles(frame, 0.3)
    assert p95 - p5 < 8 and p99 > 150      # the case: a flat bulk, bright paint
    assert not is_no_road(frame, 0.3)


def test_nearly_white_road_with_paint_is_a_road():
    # over-exposed but not clipped: 95 % of the band above 225, paint 25 levels above the road
    frame = _painted_road(lambda f, w, h: f + 230.0, 255)
    p5, _, p99 = frame_percentiles(frame, 0.3)
    assert p5 > 225 and p99 - p5 > FLAT_SPREAD
    assert not is_no_road(frame, 0.3)


def _real_frames(step=7):
    for folder in ("videos",):
        root = data_path(folder)
        for video in sorted(root.glob("*.mp4")):
            cap = cv2.VideoCapture(str(video))
            i = 0
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                if i % step == 0:
                    yield f"{video.name}#{i}", frame
                i += 1
    for pattern in ("images/*/*.jpg", "tusimple/images/*.png", "tusimple-test/images/*.png"):
        for path in sorted(data_path().glob(pattern)):
            yield path.name, cv2.imread(str(path))


@pytest.mark.skipif(data_path("videos") is None, reason="../shared/data absent")
def test_no_real_road_frame_is_called_no_road():
    wrong = [name for name, frame in _real_frames() if is_no_road(frame, 0.3)]
    assert wrong == []


def test_no_rendered_road_frame_is_called_no_road_even_at_night():
    from lanecam.pipeline.roadsim import random_frame
    from lanecam.pipeline.roadsim.mix import SceneMix

    mix = SceneMix(no_road=0.0)
    wrong = []
    for seed in range(3000, 3150):
        frame, gt = random_frame(seed, 480, 270, mix=mix)
        if is_no_road(frame, 0.3):
            wrong.append((seed, gt.kind))
    assert wrong == []


def test_static_warnings():
    assert InputChecks(720, 1280).check(None) == ["portrait"]
    assert InputChecks(1920, 480).check(None) == ["aspect"]
    assert InputChecks(1280, 720).check(None) == []
    profile = SimpleNamespace(image_size=(1280, 720), birdseye=None)
    # the same shape: maybe this camera resized (the text says so), maybe another camera
    assert InputChecks(960, 540, profile=profile).check(None) == ["calibration_size"]
    assert InputChecks(1278, 720, profile=profile).check(None) == ["calibration_size"]
    # another shape: never this camera resized
    assert InputChecks(1280, 960, profile=profile).check(None) == ["calibration_aspect"]
    assert InputChecks(1920, 1080, profile=SimpleNamespace(
        image_size=(1280, 960), birdseye=None)).check(None) == ["calibration_aspect"]
    assert InputChecks(1280, 720, profile=profile).check(None) == []
    rolled = SimpleNamespace(image_size=(1280, 720),
                             birdseye=SimpleNamespace(pose={"roll_rad": 0.12}))
    assert InputChecks(1280, 720, profile=rolled).check(None) == ["strong_roll"]


@pytest.fixture(scope="module")
def detector():
    pytest.importorskip("onnxruntime")
    from lanecam import LaneDetector

    with LaneDetector(threads=1) as det:
        yield det


def test_detector_gives_no_lanes_on_no_road_frames_and_warns_once(detector):
    told = []
    detector.on_warning = lambda code, text: told.append(code)
    detector._warned.clear()
    try:
        for kind, frame in _no_road_frames(9):
            result = detector(frame)
            assert result.lanes == [] and result.ego_polygon is None, kind
            assert "no_road" in result.warnings
    finally:
        detector.on_warning = None
    assert told == ["no_road"]


@pytest.mark.skipif(data_path("images", "udacity-advanced") is None, reason="../shared/data absent")
def test_real_frame_keeps_its_lanes_and_has_no_warning(detector):
    frame = cv2.imread(str(sorted(data_path("images", "udacity-advanced").glob("*.jpg"))[0]))
    result = detector(frame)
    assert result.warnings == [] and {"L1", "R1"} <= {lane.slot for lane in result.lanes}


def test_hud_shows_the_warning(detector):
    frame = np.full((360, 640, 3), 120, np.uint8)
    frame[200:] = np.random.default_rng(1).integers(0, 255, (160, 640, 3), dtype=np.uint8)
    result = detector(frame)
    plain = detector.draw(frame, result, {"fps": 30.0})
    result.warnings = ["portrait"]
    warned = detector.draw(frame, result, {"fps": 30.0})
    # the warning line adds text below the FPS line, in the top-left box
    assert (warned[:80, :400] != plain[:80, :400]).any()


def test_run_writes_warnings_and_says_so_once(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from lanecam.pipeline.cli import main

    lanes = tmp_path / "l.jsonl"
    code = main(["run", "synthetic://?frames=6&width=360&height=640", "--lanes", str(lanes)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.count("[portrait]") == 1
    # the warning is printed from the postprocess thread while the progress bar is drawn on
    # stderr: it is a line of its own, not glued to the end of the bar ("0/6 [...]lanecam")
    pieces = re.split(r"[\r\n]", err)
    assert [p for p in pieces if "[portrait]" in p] == [
        "lanecam run: warning: " + WARNING_TEXT["portrait"] + " [portrait]"]
    rows = [json.loads(line) for line in lanes.read_text().splitlines()]
    assert len(rows) == 6 and all(r["warnings"] == ["portrait"] for r in rows)


def test_frame_percentiles_equal_numpys_on_the_same_sample():
    """The histogram shortcut must give np.percentile's values (linear interpolation) on the
    same strided grey sample, for colour, grey and odd-sized frames."""
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8),
              rng.integers(0, 256, (37, 91, 3), dtype=np.uint8),
              rng.integers(0, 256, (1, 8, 3), dtype=np.uint8),
              rng.integers(0, 256, (100, 200), dtype=np.uint8),
              np.zeros((540, 960, 3), np.uint8), np.full((540, 960, 3), 255, np.uint8)]
    grad = np.tile(np.linspace(0, 255, 1280).astype(np.uint8)[None, :, None], (720, 1, 3))
    frames.append(grad)
    for frame in frames:
        for top in (0.0, 0.3, 0.79):
            h, w = frame.shape[:2]
            step = max(1, min(h, w) // 90)
            band = frame[int(top * h):max(int(top * h) + 1, int(0.8 * h)):step, ::step]
            grey = band.astype(np.float64)
            grey = grey.mean(-1) if grey.ndim == 3 else grey
            np.testing.assert_allclose(frame_percentiles(frame, top),
                                       np.percentile(grey, (5.0, 95.0, 99.0)), atol=1e-4)
