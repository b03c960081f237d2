"""Losses for thin lane lines: class-weighted cross-entropy plus soft Dice over the lane slots.

Lane pixels are ~2 % of the output; plain cross-entropy is minimised by predicting background
almost everywhere. The class weight lifts the lane pixels' share, and the Dice term, computed
per sample and per slot, rewards overlap regardless of how thin the line is. Both are
registered Keras objects so that training checkpoints (which carry the compiled loss) reload.
"""

import keras
from keras import ops

__all__ = ["SegLoss", "MaskedExistLoss", "IGNORE"]

# seg pixels labelled IGNORE (255) and existence targets < 0 are what a pseudo-labelled frame's
# teacher is not trusted on: no loss looks at them
from lanecam.tools.train.data import IGNORE  # noqa: E402  (defined with the samples)


@keras.saving.register_keras_serializable(package="lanecam")
class SegLoss(keras.losses.Loss):
    """Loss of a softmax over background + K lane slots against integer labels (B, H, W).

    Pixels labelled ``IGNORE`` count nowhere (neither cross-entropy nor Dice). The
    cross-entropy is averaged per sample over its labelled pixels, so a pseudo-labelled frame
    with a small labelled area weighs each of those pixels more than a synthetic frame does;
    each sample weighs the same in the batch, whatever its labelled share.

    Args:
        num_classes: 1 + K.
        lane_weight: cross-entropy weight of lane pixels (background weighs 1).
        dice_weight: weight of the mean soft-Dice loss over the K lane channels.
    """

    def __init__(self, num_classes: int = 5, lane_weight: float = 4.0, dice_weight: float = 1.0,
                 name: str = "seg_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.lane_weight = float(lane_weight)
        self.dice_weight = float(dice_weight)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == 4:  # (B, H, W, 1) from some input pipelines
            labels = ops.squeeze(labels, -1)
        valid = ops.expand_dims(ops.cast(ops.not_equal(labels, IGNORE), y_pred.dtype), -1)
        labels = ops.where(ops.equal(labels, IGNORE), 0, labels)
        y = ops.one_hot(labels, self.num_classes, dtype=y_pred.dtype) * valid
        y_pred = y_pred * valid
        p = ops.clip(y_pred, 1e-6, 1.0)
        weights = ops.concatenate([ops.ones((1,), y_pred.dtype),
                                   ops.full((self.num_classes - 1,), self.lane_weight,
                                            y_pred.dtype)])
        ce = -ops.sum(y * ops.log(p) * weights, axis=-1)           # (B, H, W)
        # mean over the labelled pixels only (all of them for a synthetic frame)
        ce = ops.sum(ce, axis=(1, 2)) / ops.maximum(ops.sum(valid, axis=(1, 2, 3)), 1.0)
        inter = ops.sum(y_pred[..., 1:] * y[..., 1:], axis=(1, 2))  # (B, K)
        total = ops.sum(y_pred[..., 1:] + y[..., 1:], axis=(1, 2))
        dice = 1.0 - (2.0 * inter + 1.0) / (total + 1.0)
        return ce + self.dice_weight * ops.mean(dice, axis=-1)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "lane_weight": self.lane_weight, "dice_weight": self.dice_weight}


@keras.saving.register_keras_serializable(package="lanecam")
class MaskedExistLoss(keras.losses.Loss):
    """Binary cross-entropy of the existence head; targets below 0 (unknown) are ignored."""

    def __init__(self, name: str = "exist_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        known = ops.cast(ops.greater_equal(y_true, 0.0), y_pred.dtype)
        t = ops.clip(y_true, 0.0, 1.0)
        p = ops.clip(y_pred, 1e-6, 1.0 - 1e-6)
        bce = -(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p)) * known
        return ops.sum(bce, axis=-1) / ops.maximum(ops.sum(known, axis=-1), 1.0)
