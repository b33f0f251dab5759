"""Per-frame video-prediction metrics, as functions and as Keras metrics.

Conventions follow the published tables (PredRNN, OpenSTL): values in [0, 1];
**MSE and MAE are per frame the sum over pixels and channels** of the squared
(absolute) error, then averaged over the batch and the frames; PSNR (max value
1) and SSIM are computed per frame with `tf.image.psnr` / `tf.image.ssim` and
averaged the same way. The four Keras metric classes live in one module, as in
Keras' own `regression_metrics.py`: each is a three-line wrapper.
"""

import keras
import tensorflow as tf


def _as_float32(y_true, y_pred):
    return tf.cast(y_true, tf.float32), tf.cast(y_pred, tf.float32)


def per_frame_mse(y_true, y_pred):
    """`(batch, frames)`: sum over pixels and channels of the squared error."""
    y_true, y_pred = _as_float32(y_true, y_pred)
    return tf.reduce_sum(tf.square(y_true - y_pred), axis=[-3, -2, -1])


def per_frame_mae(y_true, y_pred):
    """`(batch, frames)`: sum over pixels and channels of the absolute error."""
    y_true, y_pred = _as_float32(y_true, y_pred)
    return tf.reduce_sum(tf.abs(y_true - y_pred), axis=[-3, -2, -1])


def per_frame_psnr(y_true, y_pred):
    """`(batch, frames)`: PSNR in dB with max value 1 (`tf.image.psnr`)."""
    y_true, y_pred = _as_float32(y_true, y_pred)
    return tf.image.psnr(y_true, tf.clip_by_value(y_pred, 0.0, 1.0), max_val=1.0)


def per_frame_ssim(y_true, y_pred):
    """`(batch, frames)`: SSIM (`tf.image.ssim`, 11x11 Gaussian window, or the
    frame size if smaller)."""
    y_true, y_pred = _as_float32(y_true, y_pred)
    height, width = y_true.shape[-3], y_true.shape[-2]
    filter_size = min(11, height or 11, width or 11)
    return tf.image.ssim(y_true, tf.clip_by_value(y_pred, 0.0, 1.0), max_val=1.0, filter_size=filter_size)


PER_FRAME_METRICS = {
    "mse": per_frame_mse,
    "mae": per_frame_mae,
    "psnr": per_frame_psnr,
    "ssim": per_frame_ssim,
}


class _FrameMetric(keras.metrics.MeanMetricWrapper):
    function = None

    def __init__(self, name=None, dtype=None):
        super().__init__(type(self).function, name=name or self.default_name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="tfvidgen")
class FrameMSE(_FrameMetric):
    """Mean over batch and frames of the per-frame **sum** of squared errors.

    Example:

    >>> metric = FrameMSE()
    >>> metric.update_state(keras.ops.zeros((1, 2, 4, 4, 1)), keras.ops.ones((1, 2, 4, 4, 1)))
    >>> float(metric.result())
    16.0
    """

    function = staticmethod(per_frame_mse)
    default_name = "frame_mse"


@keras.saving.register_keras_serializable(package="tfvidgen")
class FrameMAE(_FrameMetric):
    """Mean over batch and frames of the per-frame **sum** of absolute errors."""

    function = staticmethod(per_frame_mae)
    default_name = "frame_mae"


@keras.saving.register_keras_serializable(package="tfvidgen")
class PSNR(_FrameMetric):
    """Mean per-frame PSNR (dB, max value 1)."""

    function = staticmethod(per_frame_psnr)
    default_name = "psnr"


@keras.saving.register_keras_serializable(package="tfvidgen")
class SSIM(_FrameMetric):
    """Mean per-frame SSIM."""

    function = staticmethod(per_frame_ssim)
    default_name = "ssim"
