"""CoordConv: position channels for convolutions that must place things at coordinates."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfvidgen")
class CoordinateChannels(keras.layers.Layer):
    """Appends one channel per non-batch, non-channel axis holding the position along that axis, from -1 to 1.

    A convolution is translation-equivariant: it cannot tell where in the map
    it is, so a decoder that must render a digit at a position coded in its
    latent vector has to build coordinates out of padding effects. With the
    coordinates as inputs (CoordConv, Liu et al., 2018) it can learn that
    mapping directly. For `(batch, frames, height, width, channels)` maps the
    layer adds 3 channels (time, row, column); an axis of size 1 gets zeros.

    Input shape:
        `(batch, d1, ..., dk, channels)` with static `d1 ... dk`.

    Output shape:
        `(batch, d1, ..., dk, channels + k)`, in the input's dtype.

    Example:

    >>> layer = CoordinateChannels()
    >>> layer(keras.ops.zeros((2, 4, 8, 8, 16))).shape
    (2, 4, 8, 8, 19)

    Reference:
        Liu et al., "An Intriguing Failing of Convolutional Neural Networks
        and the CoordConv Solution", NeurIPS 2018.
    """

    def call(self, inputs):
        sizes = tuple(inputs.shape[1:-1])
        if any(size is None for size in sizes):
            raise ValueError(
                f"CoordinateChannels needs static sizes for every axis but batch and channels. "
                f"Received shape {tuple(inputs.shape)}"
            )
        base = ops.zeros_like(inputs[..., :1])
        channels = [inputs]
        for axis, size in enumerate(sizes):
            positions = ops.linspace(-1.0, 1.0, size) if size > 1 else ops.zeros((1,))
            shape = [1] * (len(sizes) + 2)
            shape[axis + 1] = size
            channels.append(base + ops.cast(ops.reshape(positions, shape), inputs.dtype))
        return ops.concatenate(channels, axis=-1)

    def compute_output_shape(self, input_shape):
        channels = None if input_shape[-1] is None else input_shape[-1] + len(input_shape) - 2
        return tuple(input_shape[:-1]) + (channels,)
