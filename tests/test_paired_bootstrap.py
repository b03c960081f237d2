"""benchmarks/paired_bootstrap.py: the paired bootstrap of the choosing objective, on made-up
per-frame scores whose answer is known."""

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "paired_bootstrap.py"


def _module():
    spec = importlib.util.spec_from_file_location("paired_bootstrap", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_identical_models_differ_by_nothing():
    pb = _module()
    rng = np.random.default_rng(0)
    base = (rng.uniform(0.5, 1, 33), rng.uniform(0.3, 1, 200))
    obs, lo, hi, ahead = pb.paired_bootstrap(base, base, 500, np.random.default_rng(1))
    assert obs == lo == hi == 0.0 and ahead == 0.0


def test_a_small_lead_on_noisy_frames_is_within_the_noise_and_a_large_one_is_not():
    pb = _module()
    rng = np.random.default_rng(0)
    base = (rng.uniform(0.5, 1, 33), rng.uniform(0.3, 1, 200))
    # each frame moves at random by up to 0.2 (centred: exactly no lead) plus 0.002 each:
    # a lead far inside what 33 + 200 such frames can tell apart
    def jitter(n):
        v = rng.uniform(-0.2, 0.2, n)
        return v - v.mean()

    noisy = tuple(b + jitter(len(b)) + 0.002 for b in base)
    obs, lo, hi, ahead = pb.paired_bootstrap(base, noisy, 2000, np.random.default_rng(1))
    assert abs(obs - 0.002) < 1e-12
    assert lo < 0 < hi and 0.3 < ahead < 0.9
    # better by 0.05 on every frame: ahead in every resample, the interval around 0.05
    better = tuple(b + 0.05 for b in base)
    obs, lo, hi, ahead = pb.paired_bootstrap(base, better, 2000, np.random.default_rng(1))
    assert ahead == 1.0 and abs(obs - 0.05) < 1e-9 and lo > 0.04 and hi < 0.06


def test_no_outer_gap_switch_turns_the_check_off():
    pb = _module()
    from lanecam.engines.modelspec import ModelSpec
    from lanecam.pipeline.lanes import extract

    init = extract.LaneExtractor.__init__
    try:
        assert extract.LaneExtractor(ModelSpec(), 1280, 720).min_outer_gap == 0.4
        pb.without_outer_gap()
        assert extract.LaneExtractor(ModelSpec(), 1280, 720).min_outer_gap == 0.0
    finally:
        extract.LaneExtractor.__init__ = init
