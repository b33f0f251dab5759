"""Reconstruction losses for clips in [0, 1]."""

import keras
from keras import ops

from tfvidgen import validation

RECONSTRUCTION_LOSSES = ("bce", "mse")


def reconstruction_loss(y_true, y_pred, kind="bce"):
    """Per-clip reconstruction loss, summed over frames and pixels.

    Args:
        y_true: `(batch, frames, height, width, channels)` targets in [0, 1].
        y_pred: predictions of the same shape, probabilities in [0, 1].
        kind: `"bce"`, the Bernoulli negative log-likelihood in nats (with the
            sigmoid's logits recovered by Keras when `y_pred` comes straight
            from a sigmoid), or `"mse"`, half the summed squared error: the
            Gaussian negative log-likelihood with unit variance, up to its
            constant.

    Returns:
        float32 `(batch,)`: one value per clip, to be averaged over the batch.
    """
    validation.one_of("kind", kind, RECONSTRUCTION_LOSSES)
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    if kind == "bce":
        per_pixel = ops.binary_crossentropy(y_true, y_pred)
    else:
        per_pixel = 0.5 * ops.square(y_true - y_pred)
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="tfvidgen")
class L1L2(keras.losses.Loss):
    """Mean absolute plus mean squared error, a common video-prediction loss.

    Args:
        l1_weight: weight of the L1 term.
        l2_weight: weight of the L2 term.

    Example:

    >>> loss = L1L2()
    >>> float(loss(keras.ops.zeros((1, 2)), keras.ops.ones((1, 2))))
    2.0
    """

    def __init__(self, l1_weight=1.0, l2_weight=1.0, name="l1_l2", **kwargs):
        super().__init__(name=name, **kwargs)
        self.l1_weight = float(l1_weight)
        self.l2_weight = float(l2_weight)

    def call(self, y_true, y_pred):
        error = ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")
        return self.l1_weight * ops.mean(ops.abs(error), axis=-1) + self.l2_weight * ops.mean(
            ops.square(error), axis=-1
        )

    def get_config(self):
        config = super().get_config()
        config.update({"l1_weight": self.l1_weight, "l2_weight": self.l2_weight})
        return config
