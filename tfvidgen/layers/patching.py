"""Space-to-depth patching for videos, as OpenSTL does before recurrent stacks."""

import keras
from keras import ops

from tfvidgen import validation


@keras.saving.register_keras_serializable(package="tfvidgen")
class SpaceToDepth(keras.layers.Layer):
    """Folds `patch_size x patch_size` pixel blocks of every frame into channels.

    With patch 4, a 64x64x1 video becomes 16x16x16: the recurrent layers run on
    16 times fewer positions, which is how OpenSTL's ConvLSTM runs on 64x64
    Moving MNIST. `DepthToSpace` with the same patch size is its exact inverse.

    Args:
        patch_size: side of the square block; height and width must divide by it.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, frames, height / p, width / p, channels * p * p)`.

    Example:

    >>> layer = SpaceToDepth(4)
    >>> layer(keras.ops.zeros((2, 3, 64, 64, 1))).shape
    (2, 3, 16, 16, 16)
    """

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = validation.positive_int("patch_size", patch_size)

    def call(self, inputs):
        p = self.patch_size
        if p == 1:
            return inputs
        shape = ops.shape(inputs)
        batch, frames, height, width, channels = shape[0], shape[1], shape[2], shape[3], inputs.shape[-1]
        x = ops.reshape(inputs, (batch, frames, height // p, p, width // p, p, channels))
        x = ops.transpose(x, (0, 1, 2, 4, 3, 5, 6))
        return ops.reshape(x, (batch, frames, height // p, width // p, p * p * channels))

    def compute_output_shape(self, input_shape):
        batch, frames, height, width, channels = input_shape
        p = self.patch_size
        return (
            batch,
            frames,
            None if height is None else height // p,
            None if width is None else width // p,
            channels * p * p,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"patch_size": self.patch_size})
        return config


@keras.saving.register_keras_serializable(package="tfvidgen")
class DepthToSpace(keras.layers.Layer):
    """Unfolds channels back into `patch_size x patch_size` pixel blocks.

    The inverse of `SpaceToDepth` with the same `patch_size`.

    Args:
        patch_size: side of the square block; channels must divide by `p * p`.

    Input shape:
        `(batch, frames, height, width, channels * p * p)`.

    Output shape:
        `(batch, frames, height * p, width * p, channels)`.
    """

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = validation.positive_int("patch_size", patch_size)

    def call(self, inputs):
        p = self.patch_size
        if p == 1:
            return inputs
        shape = ops.shape(inputs)
        batch, frames, height, width = shape[0], shape[1], shape[2], shape[3]
        channels = inputs.shape[-1] // (p * p)
        x = ops.reshape(inputs, (batch, frames, height, width, p, p, channels))
        x = ops.transpose(x, (0, 1, 2, 4, 3, 5, 6))
        return ops.reshape(x, (batch, frames, height * p, width * p, channels))

    def compute_output_shape(self, input_shape):
        batch, frames, height, width, channels = input_shape
        p = self.patch_size
        return (
            batch,
            frames,
            None if height is None else height * p,
            None if width is None else width * p,
            channels // (p * p),
        )

    def get_config(self):
        config = super().get_config()
        config.update({"patch_size": self.patch_size})
        return config
