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
