"""Lane / no-lane patches for the experiment: the labelling rule and the sampler."""

import numpy as np

from experiments.convolutionalization.patches import PatchConfig, cell_labels, make_patches


def test_cell_labels_rule():
    mask = np.zeros((40, 60), np.uint8)
    mask[:, 30] = 1  # a vertical line at column 30
    labels = cell_labels(mask, top=4, size=12, core=4, margin=2, stride=1)
    assert labels.shape == (40 - 4 - 12 + 1, 60 - 12 + 1)
    # window starting at column j: core covers columns j+4..j+7, patch j..j+11
    assert (labels[:, 24] == 1).all() and (labels[:, 23] == 1).all()  # line at core col 6, 7
    assert (labels[:, 26] == 1).all() and (labels[:, 27] == -1).all()
    assert (labels[:, 16] == 0).all() and (labels[:, 17] == -1).all()  # 31 - 17 > 12 + 2 - 1
    assert (labels[:, 33] == 0).all() and (labels[:, 32] == -1).all()  # margin 2 past col 30


def test_cell_labels_stride_subsamples():
    mask = np.zeros((30, 50), np.uint8)
    mask[20, :] = 1
    dense = cell_labels(mask, 2, 10, 4, 1, 1)
    strided = cell_labels(mask, 2, 10, 4, 1, 2)
    np.testing.assert_array_equal(strided, dense[::2, ::2])


def test_patches_balanced_deterministic_in_range():
    cfg = PatchConfig(per_frame=3)
    x, y = make_patches(range(4), cfg)
    x2, y2 = make_patches(range(4), cfg)
    assert x.shape[1:] == (24, 24, 3) and x.dtype == np.float32
    assert len(x) == len(y) > 0 and y.sum() * 2 == len(y)
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
