"""`TimeDistributed` in one call: time folded into the batch."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfvidgen")
class TimeDistributed(keras.layers.TimeDistributed):
    """Applies a layer to every frame with one call on `batch * frames` examples.

    Keras' `TimeDistributed` calls the wrapped layer once per time step, in a
    Python loop (16 convolutions on 32 frames each for a 16-frame batch of
    32), then stacks the results. This one reshapes `(batch, frames, ...)` to
    `(batch * frames, ...)`, calls the layer once and reshapes back: one
    convolution on 512 frames, which the CPU and GPU kernels run far better
    (docs/benchmarks.md, "TimeDistributed in one call").

    The results are the same for layers that treat every example on its own
    (convolutions, `Dense`, `SpectralNormalization` around them) but not for
    layers that mix the batch, such as `BatchNormalization` in training:
    Keras' version normalizes each time step over its batch, this one over
    all frames. A wrapped `SpectralNormalization` takes one power-iteration
    step per call, as in a 2D discriminator, not one per time step.

    Weights are those of Keras' layer of the same name (same variables, same
    paths in a `.weights.h5`), so models saved with either load in the
    other. With a `mask`, Keras' per-step loop runs.

    Args:
        layer: the `keras.layers.Layer` to apply to each frame.

    Input shape:
        `(batch, frames, ...)` with static non-batch sizes but `frames`.

    Output shape:
        `(batch, frames) + layer's output shape without its batch axis`.

    Example:

    >>> layer = TimeDistributed(keras.layers.Conv2D(8, 3, padding="same"))
    >>> layer(keras.ops.zeros((2, 16, 32, 32, 1))).shape
    (2, 16, 32, 32, 8)
    """

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            return super().call(inputs, training=training, mask=mask)
        shape = ops.shape(inputs)
        batch, frames = shape[0], shape[1]
        folded = ops.reshape(inputs, (-1,) + tuple(inputs.shape[2:]))
        kwargs = {"training": training} if self.layer._call_has_training_arg else {}
        outputs = self.layer.call(folded, **kwargs)
        return ops.reshape(outputs, (batch, frames) + tuple(outputs.shape[1:]))
