"""The ConvLSTM's frame-by-frame loop, one compiled loop per backend.

- TensorFlow: a `tf.while_loop` writing a `TensorArray`, so the number of
  steps may be a tensor: the exported `rollout` signature takes any horizon.
- Other backends: `keras.ops.scan` over the steps (a `lax.scan` under
  `jax.jit`), with the step count a Python int; a new horizon compiles anew.

Both run the same `ConvLSTMBackbone.step` and feed step `t` the true frame
`frames[:, t]` while `t < num_context`, afterwards the previous prediction,
or the truth again where `truth_mask[:, t - num_context]` says so
(scheduled sampling).
"""

import keras
import numpy as np
from keras import ops


def unroll(backbone, frames, num_context, num_steps, truth_mask=None, training=False):
    """Runs `num_steps` steps over `frames`; returns `(batch, num_steps, height, width, channels)` float32."""
    if keras.backend.backend() == "tensorflow":
        return _while_loop_unroll(backbone, frames, num_context, num_steps, truth_mask, training)
    return _scan_unroll(backbone, frames, int(num_context), int(num_steps), truth_mask, training)


def rollout(backbone, context, num_future_frames, training=False):
    """`(batch, T, H, W, C)` context -> `(batch, N, H, W, C)`: the context, then each prediction fed back."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        num_context = tf.shape(context)[1]
        num_future_frames = tf.reshape(tf.cast(num_future_frames, tf.int32), [])
        num_steps = tf.maximum(num_context + num_future_frames - 1, 1)
    else:
        num_context, num_future_frames = int(context.shape[1]), int(num_future_frames)
        num_steps = max(num_context + num_future_frames - 1, 1)
    predictions = unroll(backbone, context, num_context, num_steps, training=training)
    return predictions[:, num_context - 1 : num_context - 1 + num_future_frames]


def _while_loop_unroll(backbone, frames, num_context, num_steps, truth_mask, training):
    import tensorflow as tf

    batch_size = tf.shape(frames)[0]
    available = tf.shape(frames)[1]
    predictions = tf.TensorArray(tf.float32, size=num_steps, element_shape=(None,) + backbone.frame_shape)

    def body(step, previous, states, predictions):
        truth = tf.gather(frames, tf.minimum(step, available - 1), axis=1)
        use_truth = tf.fill([batch_size], step < num_context)
        if truth_mask is not None:
            # The mask has a column per fed future frame; with one target frame it has none.
            padded = tf.concat([truth_mask, tf.zeros([batch_size, 1], tf.bool)], axis=1)
            future_index = tf.clip_by_value(step - num_context, 0, tf.shape(padded)[1] - 1)
            use_truth = use_truth | tf.gather(padded, future_index, axis=1)
        frame = tf.where(use_truth[:, None, None, None], truth, tf.cast(previous, truth.dtype))
        prediction, states = backbone.step(frame, states, training)
        return step + 1, prediction, states, predictions.write(step, prediction)

    _, _, _, predictions = tf.while_loop(
        lambda step, *_: step < num_steps,
        body,
        (tf.constant(0), tf.zeros_like(frames[:, 0], tf.float32), backbone.initial_states(batch_size), predictions),
    )
    return tf.transpose(predictions.stack(), (1, 0, 2, 3, 4))


def _scan_unroll(backbone, frames, num_context, num_steps, truth_mask, training):
    batch_size = ops.shape(frames)[0]
    steps = np.arange(num_steps)
    # Time-major inputs of every step: the true frame it would read, and whether it reads it.
    truth = ops.moveaxis(ops.take(frames, np.minimum(steps, frames.shape[1] - 1), axis=1), 1, 0)
    use_truth = ops.broadcast_to(ops.convert_to_tensor((steps < num_context)[:, None]), (num_steps, batch_size))
    if truth_mask is not None:
        padded = ops.concatenate([truth_mask, ops.zeros((batch_size, 1), "bool")], axis=1)
        future_index = np.clip(steps - num_context, 0, padded.shape[1] - 1)
        use_truth = ops.logical_or(use_truth, ops.transpose(ops.take(padded, future_index, axis=1)))

    def body(carry, inputs):
        previous, states = carry
        truth_frame, use = inputs
        frame = ops.where(use[:, None, None, None], truth_frame, ops.cast(previous, truth_frame.dtype))
        prediction, states = backbone.step(frame, states, training)
        return (prediction, states), prediction

    initial = (ops.zeros(ops.shape(frames[:, 0]), "float32"), backbone.initial_states(batch_size))
    _, predictions = ops.scan(body, initial, (truth, use_truth))
    return ops.moveaxis(predictions, 0, 1)
