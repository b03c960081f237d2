"""Numerical checks of a convolutionalized model against its classifier.

- same size: on the classifier's input size the convolutional model's single map cell must
  equal the classifier's output;
- sliding window: on a larger input, map cell (i, j) must equal the classifier on the window
  at rows ``i*sy .. i*sy+H`` and columns ``j*sx .. j*sx+W`` (exact when the trunk has no padding).
"""

from typing import Callable, List, Optional, Tuple

import numpy as np

__all__ = ["random_images", "same_size_diff", "window_diff", "window_cells"]


def random_images(n: int, shape: Tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """``n`` float32 images uniform in [0, 1) (the scale most classifiers are trained on)."""
    return np.random.default_rng(seed).random((n,) + tuple(shape), dtype=np.float32)


def _np(x) -> np.ndarray:
    return np.asarray(x[0] if isinstance(x, (list, tuple)) else x, dtype=np.float64)


def same_size_diff(classify: Callable, conv_model, images: np.ndarray) -> float:
    """Max |classifier(images) - conv_model(images)[:, 0, 0, :]|."""
    ref = _np(classify(images))
    out = _np(conv_model(images, training=False))
    if out.ndim != 4 or out.shape[1:3] != (1, 1):
        raise ValueError(f"expected a 1x1 output map at the classifier's size, got {out.shape}")
    return float(np.max(np.abs(out[:, 0, 0, :] - ref.reshape(out.shape[0], -1))))


def window_cells(map_hw: Tuple[int, int]) -> List[Tuple[int, int]]:
    """The map cells checked: the four corners and the centre (no duplicates)."""
    oh, ow = map_hw
    cells = [(0, 0), (0, ow - 1), (oh - 1, 0), (oh - 1, ow - 1), (oh // 2, ow // 2)]
    return sorted(set(cells))


def window_diff(classify: Callable, conv_model, image: np.ndarray, window: Tuple[int, int],
                stride: Tuple[int, int], cells: Optional[List[Tuple[int, int]]] = None) -> float:
    """Max |conv_model(image)[i, j] - classifier(window at (i*sy, j*sx))| over ``cells``.

    Args:
        classify: the classifier (N, H, W, C) -> (N, classes).
        conv_model: the convolutional model on ``image``'s size.
        image: one (H', W', C) image, H' >= H and W' >= W.
        window: (H, W) of the classifier; stride: (sy, sx) integers.
    """
    dense = _np(conv_model(image[None], training=False))[0]
    cells = cells or window_cells(dense.shape[:2])
    (h, w), (sy, sx) = window, stride
    crops = np.stack([image[i * sy:i * sy + h, j * sx:j * sx + w] for i, j in cells])
    ref = _np(classify(crops)).reshape(len(cells), -1)
    got = np.stack([dense[i, j] for i, j in cells])
    return float(np.max(np.abs(got - ref)))
