"""Sinusoidal features of a scalar per example: the noise level a diffusion network is told."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfvidgen")
class SinusoidalEmbedding(keras.layers.Layer):
    """`(batch,)` scalars to `(batch, dim)` sines and cosines at geometric frequencies.

    The transformer's position encoding (Vaswani et al., 2017) applied to a
    continuous value, as diffusion models tell their network the noise level
    (Ho et al., 2020): frequencies from 1 down to `1 / max_period`, the value
    multiplied by `scale` first (a time in [0, 1] becomes 0-1000).

    Args:
        dim: output size, even.
        scale: factor applied to the value before the sines.
        max_period: the longest period.

    Input shape:
        `(batch,)` or `(batch, 1)`, any float dtype.

    Output shape:
        `(batch, dim)`.

    Example:

    >>> SinusoidalEmbedding(8)(keras.ops.array([0.0, 0.5])).shape
    (2, 8)
    """

    def __init__(self, dim, scale=1000.0, max_period=10000.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dim, int) or dim < 2 or dim % 2:
            raise ValueError(f"`dim` must be an even int >= 2. Received: dim={dim!r}")
        self.dim = dim
        self.scale = float(scale)
        self.max_period = float(max_period)

    def call(self, values):
        values = ops.reshape(ops.cast(values, "float32"), (-1, 1)) * self.scale
        half = self.dim // 2
        frequencies = ops.exp(-math.log(self.max_period) * ops.arange(half, dtype="float32") / half)
        angles = values * frequencies[None, :]
        return ops.cast(ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "scale": self.scale, "max_period": self.max_period}
