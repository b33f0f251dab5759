"""Per-frame video-prediction metrics, as functions and as Keras metrics.

Conventions follow the published tables (PredRNN, OpenSTL): values in [0, 1];
**MSE and MAE are per frame the sum over pixels and channels** of the squared
(absolute) error, then averaged over the batch and the frames; PSNR (max value
1) and SSIM are computed per frame as `tf.image.psnr` / `tf.image.ssim` do (in
`keras.ops`, so that they run on every backend) and averaged the same way. The
four Keras metric classes live in one module, as in Keras' own
`regression_metrics.py`: each is a three-line wrapper.
"""

import keras
import numpy as np
from keras import ops

# tf.image.ssim's constants: an 11x11 Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03.
SSIM_FILTER_SIZE = 11
SSIM_FILTER_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03


def _as_float32(y_true, y_pred):
    return ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")


def per_frame_mse(y_true, y_pred):
    """`(batch, frames)`: sum over pixels and channels of the squared error."""
    y_true, y_pred = _as_float32(y_true, y_pred)
    return ops.sum(ops.square(y_true - y_pred), axis=(-3, -2, -1))


def per_frame_mae(y_true, y_pred):
    """`(batch, frames)`: sum over pixels and channels of the absolute error."""
    y_true, y_pred = _as_float32(y_true, y_pred)
    return ops.sum(ops.abs(y_true - y_pred), axis=(-3, -2, -1))


def per_frame_psnr(y_true, y_pred):
    """`(batch, frames)`: PSNR in dB with max value 1 (as `tf.image.psnr`)."""
    y_true, y_pred = _as_float32(y_true, y_pred)
    mse = ops.mean(ops.square(y_true - ops.clip(y_pred, 0.0, 1.0)), axis=(-3, -2, -1))
    return -10.0 * ops.log(mse) / np.log(10.0)


def per_frame_ssim(y_true, y_pred):
    """`(batch, frames)`: SSIM with an 11x11 Gaussian window (the frame size if smaller).

    Under TensorFlow this is `tf.image.ssim`; elsewhere the same formula in
    `keras.ops` (equal to 1e-5, tested).
    """
    y_true, y_pred = _as_float32(y_true, y_pred)
    height, width = y_true.shape[-3], y_true.shape[-2]
    filter_size = min(SSIM_FILTER_SIZE, height or SSIM_FILTER_SIZE, width or SSIM_FILTER_SIZE)
    y_pred = ops.clip(y_pred, 0.0, 1.0)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.image.ssim(y_true, y_pred, max_val=1.0, filter_size=filter_size)
    return _ssim(y_true, y_pred, filter_size)


def _gaussian_window(size, channels):
    coordinates = np.arange(size, dtype="float64") - (size - 1) / 2.0
    line = np.exp(-(coordinates**2) / (2.0 * SSIM_FILTER_SIGMA**2))
    line /= line.sum()
    window = np.outer(line, line).astype("float32")
    return np.tile(window[:, :, None, None], (1, 1, channels, 1))  # (size, size, channels, 1): depthwise.


def _ssim(y_true, y_pred, filter_size):
    """tf.image.ssim's computation (valid windows, max value 1) over `(..., height, width, channels)`."""
    shape = ops.shape(y_true)
    leading, frame_shape = shape[:-3], tuple(shape[-3:])
    window = _gaussian_window(filter_size, frame_shape[-1])

    def local_mean(images):
        return ops.depthwise_conv(ops.reshape(images, (-1,) + frame_shape), window, padding="valid")

    c1, c2 = SSIM_K1**2, SSIM_K2**2
    mean_true, mean_pred = local_mean(y_true), local_mean(y_pred)
    product_of_means = mean_true * mean_pred
    luminance = (2.0 * product_of_means + c1) / (ops.square(mean_true) + ops.square(mean_pred) + c1)
    covariance = local_mean(y_true * y_pred) - product_of_means
    variances = local_mean(ops.square(y_true) + ops.square(y_pred)) - ops.square(mean_true) - ops.square(mean_pred)
    contrast_structure = (2.0 * covariance + c2) / (variances + c2)
    per_image = ops.mean(luminance * contrast_structure, axis=(-3, -2, -1))
    return ops.reshape(per_image, leading)


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
