"""``crop_top``: where the road starts for a camera whose horizon is not TuSimple's."""

import numpy as np
import pytest

from lanecam.pipeline.cli.batch import BatchConfig
from lanecam.pipeline.cli.run_config import RunConfig, load_run_config
from lanecam.pipeline.detector import LaneDetector
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.options import add_flags


@pytest.fixture(scope="module", autouse=True)
def _onnxruntime():
    pytest.importorskip("onnxruntime")


def test_crop_top_moves_the_rows_the_model_sees():
    frame = np.full((720, 1280, 3), 100, np.uint8)
    frame[150:200] = 255            # a bright band above the default crop (rows 0-216)
    with LaneDetector(threads=1) as plain, LaneDetector(threads=1, crop_top=0.1) as low:
        assert (plain.spec.crop_top, low.spec.crop_top) == (0.3, 0.1)
        # the engine's own card is untouched: the override is this detector's
        assert low.engine.spec.crop_top == 0.3
        a, b = plain.preprocess(frame).copy(), low.preprocess(frame).copy()
    assert a.max() == pytest.approx(a.min())     # the band is cut off at 0.3 ...
    assert b.max() > b.min() + 0.3                # ... and seen at 0.1


@pytest.mark.parametrize("bad", [-0.1, 0.85, float("nan"), float("inf")])
def test_bad_crop_top_is_one_input_error(bad):
    with pytest.raises(InputError, match="crop_top"):
        LaneDetector(threads=1, crop_top=bad)


def test_the_flag_reaches_the_detector_config_in_run_and_batch(tmp_path):
    import argparse

    parser = argparse.ArgumentParser()
    add_flags(parser, RunConfig)
    run = load_run_config(parser.parse_args(["clip.mp4", "--crop-top", "0.15"]))
    assert run.detector_config().crop_top == 0.15
    assert load_run_config(parser.parse_args(["clip.mp4"])).detector_config().crop_top is None
    parser = argparse.ArgumentParser()
    add_flags(parser, BatchConfig)
    from lanecam.pipeline.options import load_config

    batch = load_config(BatchConfig, parser.parse_args(["--crop-top", "0.2"]))
    assert batch.detector_config().crop_top == 0.2


# ---- --crop-top auto ----------------------------------------------------------------------------
PITCHED = (200, 660)      # the validation drive cut to rows 200-660: a camera pitched down


def _validation_frames(shared_data, rows=None):
    """The 33 validation-drive frames (set 0601), cut to ``rows`` when given."""
    from lanecam.tools.evaluate.datasets import load_tusimple
    from lanecam.tools.evaluate.predict import read_image
    from lanecam.tools.train.split import TRAIN_FOLDER, is_validation

    root = shared_data / TRAIN_FOLDER
    if not (root / "labels.json").is_file():
        pytest.skip(f"{root} is absent")
    labels = load_tusimple(root, lambda row: is_validation(row["raw_file"]))
    frames = [read_image(root / row["raw_file"]) for row in labels]
    return [f[rows[0]:rows[1]] if rows else f for f in frames]


def test_auto_moves_the_crop_up_for_a_camera_pitched_down(shared_data):
    frames = _validation_frames(shared_data, PITCHED)
    changes = []
    with LaneDetector(threads=1, crop_top="auto") as det:
        det.on_crop = lambda *change: changes.append(change)
        assert det.spec.crop_top == 0.3 and det.auto_crop
        for i, frame in enumerate(frames):
            det(frame, i)
        # the lines meet near 0.06-0.08 of these 460 rows (the recorded frames': 0.315)
        assert len(changes) == 1 and changes[0][:3] == (1280, 460, 0.3)
        assert 0.02 < det.crop_top_for(1280, 460) < 0.12
        assert det.crop_top_for(1280, 720) == 0.3       # per frame size


def test_auto_keeps_the_models_crop_for_its_own_camera(shared_data):
    frames = _validation_frames(shared_data)
    with LaneDetector(threads=1, crop_top="auto") as det:
        det.on_crop = lambda *change: pytest.fail(f"crop changed: {change}")
        for i, frame in enumerate(frames):
            det(frame, i)
        assert det.crop_top_for(1280, 720) == 0.3


def test_auto_in_the_threaded_pipeline_maps_each_frame_with_its_own_crop(shared_data, tmp_path,
                                                                         capsys):
    """``lanecam run --crop-top auto`` on the pitched-down frames (twice over, 66 frames): the
    change is announced; the frames before the switch are found at the model's crop, the
    frames after it reach the far road that crop cut away (rows above 0.3 x 460 = 138); and
    the lanes are the same on every run (the switch lands on a frame, not on thread timing)."""
    import cv2
    import json

    from lanecam.pipeline.cli import main
    from lanecam.pipeline.lanes.horizon import AutoCrop

    folder = tmp_path / "pitched"
    folder.mkdir()
    frames = _validation_frames(shared_data, PITCHED)
    for i, frame in enumerate(frames + frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    runs = []
    for crop in ("0.3", "auto", "auto"):
        out = tmp_path / f"{len(runs)}.jsonl"
        assert main(["run", str(folder), "--crop-top", crop, "--lanes", str(out),
                     "--quiet"]) == 0
        err = capsys.readouterr().err
        assert ("crop-top auto: the ego lines of the 1280x460 frames meet higher up than the "
                "model's camera's; crop 0.30 -> 0.0" in err) == (crop == "auto")
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(rows) == 66
        runs.append(rows)
    fixed, auto, again = ([min((p[1] for lane in row["lanes"] for p in lane["points"]),
                               default=460) for row in rows] for rows in runs)
    assert min(fixed) >= 0.3 * 460 - 1
    # ten frames with both ego lines decide; the switch comes AutoCrop.LAG (16) frames later
    switch = next(i for i, (a, f) in enumerate(zip(auto, fixed)) if a != f)
    assert 9 + AutoCrop.LAG <= switch <= 33
    assert sum(top < 0.3 * 460 - 20 for top in auto[switch:]) >= 0.9 * (66 - switch)
    assert [r["lanes"] for r in runs[1]] == [r["lanes"] for r in runs[2]]


def test_postprocess_and_preprocess_use_the_crop_they_are_given(shared_data):
    """The per-frame crop, without the pipeline: a frame preprocessed at one crop and
    postprocessed at it, while the detector has moved on to another, gives the lanes a
    detector fixed at that crop gives."""
    frame = _validation_frames(shared_data, PITCHED)[0]
    with LaneDetector(threads=1, crop_top=0.1) as fixed, \
            LaneDetector(threads=1, crop_top="auto") as auto:
        want = fixed(frame)
        assert np.array_equal(auto.preprocess(frame, crop_top=0.1), fixed.preprocess(frame))
        outputs = {k: v.copy() for k, v in auto.infer(auto.preprocess(frame, crop_top=0.1))
                   .items()}
        assert auto.crop_top_for(1280, 460) == 0.3     # ... while the detector's is another
        got = auto.postprocess(outputs, 1280, 460, frame=frame, crop_top=0.1)
    assert [lane.slot for lane in got.lanes] == [lane.slot for lane in want.lanes]
    for a, b in zip(got.lanes, want.lanes):
        assert np.allclose(a.points, b.points)
    assert min(float(lane.points[:, 1].min()) for lane in got.lanes) < 0.3 * 460 - 20


def test_the_stages_hand_each_frame_its_own_crop():
    """Frames in flight when the crop changes: postprocess maps each with the crop preprocess
    used for it, not the one in use when it arrives."""
    from types import SimpleNamespace

    from lanecam.pipeline.core.frames import FrameMeta
    from lanecam.pipeline.core.lanestages import PostprocessStage, PreprocessStage

    class Stub:
        def __init__(self):
            self.crops = iter([0.3, 0.2, 0.1])
            self.pre, self.post = [], []

        def crop_top_for(self, width, height):
            return next(self.crops)

        def preprocess(self, frame, out=None, undistorted=None, crop_top=None):
            self.pre.append(crop_top)

        def postprocess(self, outputs, width, height, frame_id, frame=None, crop_top=None):
            self.post.append((frame_id, crop_top))
            return SimpleNamespace(timings_ms={})

    stub = Stub()
    slots = [SimpleNamespace(frame=np.zeros((8, 8, 3), np.uint8), tensor=None, outputs={})
             for _ in range(3)]
    metas = [FrameMeta().reset(i, 0.0, 0.0) for i in range(3)]
    pre, post = PreprocessStage(stub), PostprocessStage(stub, draw=False)
    pre.pool = post.pool = SimpleNamespace(slots=slots)
    for i in range(3):            # all three preprocessed before the first is postprocessed
        pre.process(i, metas[i])
    for i in range(3):
        post.process(i, metas[i])
    assert stub.pre == [0.3, 0.2, 0.1]
    assert stub.post == [(0, 0.3), (1, 0.2), (2, 0.1)]
