"""Minibatch standard deviation: lets a discriminator see sample diversity."""

import keras
from keras import ops

from tfvidgen import validation


@keras.saving.register_keras_serializable(package="tfvidgen")
class MinibatchStddev(keras.layers.Layer):
    """Appends one channel holding the spread of the features across a group.

    The batch is split into consecutive groups of `group_size` examples (the
    last group may be smaller). For each group, the standard deviation of
    every feature across the group's examples is averaged into one number,
    which is broadcast as an extra channel to each example of the group
    (Karras et al., 2018). A generator that collapses to a few outputs makes
    this channel near zero on its fakes, which the discriminator can tell from
    real batches: a cheap counter to mode collapse.

    Groups are consecutive, so an example's output depends only on its own
    group: when each replica's batch is a multiple of `group_size`, N replicas
    compute exactly what one device would for the global batch.

    Args:
        group_size: examples per group (>= 2).

    Input shape:
        `(batch, ..., channels)`.

    Output shape:
        `(batch, ..., channels + 1)`.

    Example:

    >>> layer = MinibatchStddev(group_size=4)
    >>> layer(keras.ops.ones((8, 2, 4, 4, 16))).shape
    (8, 2, 4, 4, 17)

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018.
    """

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = validation.positive_int("group_size", group_size)
        if self.group_size < 2:
            raise ValueError(
                f"`group_size` must be an int >= 2 (a spread needs two examples). Received: group_size={group_size!r}"
            )

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        group_ids = ops.arange(batch) // self.group_size
        flat = ops.cast(ops.reshape(inputs, (batch, -1)), "float32")
        # JAX needs the number of groups (its batch is static); TensorFlow's may be dynamic and takes none.
        groups = None if keras.backend.backend() == "tensorflow" else -(-batch // self.group_size)
        count = ops.segment_sum(ops.ones((batch, 1), "float32"), group_ids, num_segments=groups, sorted=True)
        mean = ops.segment_sum(flat, group_ids, num_segments=groups, sorted=True) / count
        mean_square = ops.segment_sum(ops.square(flat), group_ids, num_segments=groups, sorted=True) / count
        spread = ops.mean(ops.sqrt(ops.maximum(mean_square - ops.square(mean), 0.0) + 1e-8), axis=-1)
        per_example = ops.cast(ops.take(spread, group_ids), inputs.dtype)
        per_example = ops.reshape(per_example, (-1,) + (1,) * (len(inputs.shape) - 1))
        channel = per_example * ops.ones_like(inputs[..., :1])
        return ops.concatenate([inputs, channel], axis=-1)

    def compute_output_shape(self, input_shape):
        channels = None if input_shape[-1] is None else input_shape[-1] + 1
        return tuple(input_shape[:-1]) + (channels,)

    def get_config(self):
        config = super().get_config()
        config.update({"group_size": self.group_size})
        return config
