"""A resume with fewer (or more) epochs re-aims the learning-rate schedule at the new end."""

import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from lanecam.tools.train.trainer import _reschedule  # noqa: E402


def test_the_rate_goes_on_from_where_it_was_and_ends_annealed():
    schedule = keras.optimizers.schedules.CosineDecay(1e-4, decay_steps=900, alpha=0.02,
                                                      warmup_target=1e-3, warmup_steps=100)
    opt = keras.optimizers.AdamW(schedule)
    opt.build([keras.Variable(1.0)])
    opt.iterations.assign(600)
    before = float(opt.learning_rate)
    assert before > 2e-4          # mid-way down the original cosine: far from annealed
    _reschedule(opt, 600, 700)
    assert float(opt.learning_rate) == pytest.approx(before, rel=1e-5)
    opt.iterations.assign(650)
    assert before * 0.4 < float(opt.learning_rate) < before * 0.6   # half-way: half the rate
    opt.iterations.assign(700)
    assert float(opt.learning_rate) == pytest.approx(0.02 * before, rel=1e-3)
