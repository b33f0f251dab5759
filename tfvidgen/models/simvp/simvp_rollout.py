"""SimVP's block-by-block rollout: each block of predicted frames joins the context of the next.

- Static horizons (training, evaluation): a Python loop of blocks; under
  `jax.jit` (`predict_future` on JAX) `scan_rollout`, one `keras.ops.scan`.
- TensorFlow with a tensor horizon (the exported `rollout` signature): a
  `tf.while_loop` writing a `TensorArray`, so one graph serves every horizon.

The backbone takes exactly `context_frames` frames: a longer context is cut
to its last ones, a shorter one is padded in front with copies of its first
frame (a still scene before the clip).
"""

import math
import numbers

import keras
from keras import ops


def context_window(backbone, context):
    """`(batch, T >= 1, H, W, C)` -> `(batch, context_frames, H, W, C)`: the last frames, padded in front."""
    needed = backbone.context_frames
    if keras.backend.backend() == "tensorflow" and context.shape[1] is None:
        import tensorflow as tf

        padding = tf.repeat(context[:, :1], tf.maximum(needed - tf.shape(context)[1], 0), axis=1)
        window = tf.concat([padding, context], axis=1)[:, -needed:]
        return tf.ensure_shape(window, (None, needed) + backbone.frame_shape)
    frames = int(context.shape[1])
    if frames < needed:
        context = ops.concatenate([ops.repeat(context[:, :1], needed - frames, axis=1), context], axis=1)
    return context[:, -needed:]


def rollout(backbone, context, num_future_frames, training=False):
    """`(batch, T, H, W, C)` context -> `(batch, N, H, W, C)`, block by block.

    `num_future_frames` is an int, or under TensorFlow a scalar tensor.
    """
    window = context_window(backbone, context)
    if not isinstance(num_future_frames, numbers.Integral):
        return _while_loop_rollout(backbone, window, num_future_frames, training)
    num_future_frames = int(num_future_frames)
    blocks = []
    for _ in range(math.ceil(num_future_frames / backbone.future_frames)):
        block = backbone(window, training=training)
        blocks.append(block)
        window = ops.concatenate([window, ops.cast(block, window.dtype)], axis=1)[:, -backbone.context_frames :]
    if not blocks:
        return ops.zeros((ops.shape(context)[0], 0) + backbone.frame_shape, "float32")
    return ops.concatenate(blocks, axis=1)[:, :num_future_frames]


def scan_rollout(backbone, context, num_future_frames):
    """`rollout` with the blocks in one `ops.scan`: one compiled block however long the (int) horizon."""
    window = context_window(backbone, context)
    num_blocks = math.ceil(num_future_frames / backbone.future_frames)
    if num_blocks == 0:
        return ops.zeros((ops.shape(window)[0], 0) + backbone.frame_shape, "float32")

    def body(window, _):
        block = backbone(window, training=False)
        return ops.concatenate([window, block], axis=1)[:, -backbone.context_frames :], block

    _, blocks = ops.scan(body, window, length=num_blocks)
    blocks = ops.moveaxis(blocks, 0, 1)  # (batch, blocks, future_frames, H, W, C)
    frames = ops.reshape(blocks, (ops.shape(window)[0], num_blocks * backbone.future_frames) + backbone.frame_shape)
    return frames[:, :num_future_frames]


def _while_loop_rollout(backbone, window, num_future_frames, training):
    import tensorflow as tf

    num_future_frames = tf.reshape(tf.cast(num_future_frames, tf.int32), [])
    block_size = backbone.future_frames
    # At least one block: an empty TensorArray cannot stack a batch of unknown size (horizon 0 slices it away).
    num_blocks = tf.maximum((num_future_frames + block_size - 1) // block_size, 1)
    blocks = tf.TensorArray(tf.float32, size=num_blocks, element_shape=(None, block_size) + backbone.frame_shape)

    def body(index, window, blocks):
        block = tf.cast(backbone(window, training=training), tf.float32)
        window = tf.concat([window, tf.cast(block, window.dtype)], axis=1)[:, -backbone.context_frames :]
        return index + 1, window, blocks.write(index, block)

    _, _, blocks = tf.while_loop(lambda index, *_: index < num_blocks, body, (tf.constant(0), window, blocks))
    stacked = tf.transpose(blocks.stack(), (1, 0, 2, 3, 4, 5))
    frames = tf.reshape(stacked, tf.concat([[tf.shape(window)[0], num_blocks * block_size], backbone.frame_shape], 0))
    return frames[:, :num_future_frames]
