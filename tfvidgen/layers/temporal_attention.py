"""Self-attention along time at every pixel: how a factorized space-time network mixes frames."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfvidgen")
class TemporalAttention(keras.layers.Layer):
    """Residual multi-head self-attention over the frames of each pixel, with a relative position bias.

    The temporal layer of a factorized space-time U-Net (Ho et al., "Video
    Diffusion Models", 2022): every `(y, x)` position attends over the
    frames of its own column, so the cost grows with `frames ** 2` but not
    with the frame area squared. Frame order enters through a learned bias
    per head and per frame offset (`-(frames - 1)` to `frames - 1`). The
    input is group-normalized first; the output projection starts at zero,
    so a new layer is the identity.

    Args:
        num_heads: attention heads; the channels must divide by it.
        groups: groups of the group normalization.
        max_frames: the longest clip the position bias covers.

    Input shape:
        `(batch, frames, height, width, channels)`, `frames <= max_frames`.

    Output shape:
        The input's.
    """

    def __init__(self, num_heads=4, groups=8, max_frames=64, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.groups = groups
        self.max_frames = max_frames

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels % self.num_heads:
            raise ValueError(f"`num_heads` must divide the channels ({channels}). Received: num_heads={self.num_heads}")
        self.norm = keras.layers.GroupNormalization(min(self.groups, channels), epsilon=1e-5, name="norm")
        self.norm.build(input_shape)
        self.qkv = keras.layers.Dense(3 * channels, name="qkv")
        self.qkv.build(input_shape)
        self.out = keras.layers.Dense(channels, kernel_initializer="zeros", name="out")
        self.out.build(input_shape)
        self.position_bias = self.add_weight(
            shape=(2 * self.max_frames - 1, self.num_heads), initializer="zeros", name="position_bias"
        )

    def call(self, inputs):
        shape = ops.shape(inputs)
        batch, frames, height, width = shape[0], shape[1], shape[2], shape[3]
        channels = inputs.shape[-1]
        head_dim = channels // self.num_heads
        qkv = self.qkv(self.norm(inputs))
        # (batch, frames, h, w, 3, heads, d) -> (3, batch * h * w, heads, frames, d)
        qkv = ops.reshape(qkv, (batch, frames, height, width, 3, self.num_heads, head_dim))
        qkv = ops.reshape(ops.transpose(qkv, (4, 0, 2, 3, 5, 1, 6)), (3, -1, self.num_heads, frames, head_dim))
        query, key, value = qkv[0], qkv[1], qkv[2]  # (batch * h * w, heads, frames, d)
        logits = ops.matmul(query, ops.swapaxes(key, -1, -2)) * ops.cast(head_dim**-0.5, query.dtype)
        positions = ops.arange(frames)
        offsets = positions[None, :] - positions[:, None] + self.max_frames - 1
        bias = ops.transpose(ops.take(self.position_bias, offsets, axis=0), (2, 0, 1))  # (heads, frames, frames)
        logits = logits + ops.cast(bias, logits.dtype)
        weights = ops.softmax(ops.cast(logits, "float32"), axis=-1)
        mixed = ops.matmul(ops.cast(weights, value.dtype), value)
        mixed = ops.reshape(mixed, (batch, height, width, self.num_heads, frames, head_dim))
        mixed = ops.reshape(ops.transpose(mixed, (0, 4, 1, 2, 3, 5)), (batch, frames, height, width, channels))
        return inputs + self.out(mixed)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "groups": self.groups,
            "max_frames": self.max_frames,
        }
