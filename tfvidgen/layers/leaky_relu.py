"""LeakyReLU whose gradient is computed from its output, which TensorFlow's graph optimizer does not mis-fuse."""

import keras


@keras.saving.register_keras_serializable(package="tfvidgen")
class LeakyReLU(keras.layers.LeakyReLU):
    """`keras.layers.LeakyReLU` with its gradient taken from the output.

    The same values and gradients as Keras' layer (for `0 <= negative_slope <= 1`
    the output is positive exactly where the input is), the same config, no
    weights. It exists for TensorFlow's Grappler remapper, which fuses
    `Conv + BiasAdd + LeakyRelu` into one op and then fails on the
    discriminator's training graph because `LeakyReluGrad` still reads the fused
    `BiasAdd` ("remapper failed: ... fanout ... LeakyReluGrad exist for missing
    node ... BiasAdd", printed on every `tfvidgen train dcgan`), leaving that
    graph without any of its fusions. A gradient from the output reads only the
    fused op's result. (`max(x, slope * x)` avoided the error too, at 11% of a
    DCGAN step.)

    Args:
        negative_slope: slope below zero, in [0, 1].
        **kwargs: base `Layer` arguments (`name`, `dtype`).

    Input shape: any. Output shape: the input's.

    Example:

    >>> LeakyReLU(0.2)(keras.ops.convert_to_tensor([-1.0, 2.0]))
    [-0.2, 2.0]
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if not 0.0 <= negative_slope <= 1.0:
            raise ValueError(
                f"`negative_slope` must be in [0, 1] (where the output's sign is the input's). "
                f"Received: negative_slope={negative_slope!r}"
            )
        super().__init__(negative_slope=negative_slope, **kwargs)

    def call(self, inputs):
        return _leaky_relu(inputs, self.negative_slope)


def _leaky_relu(inputs, negative_slope):
    @keras.ops.custom_gradient
    def forward(x):
        y = keras.ops.leaky_relu(x, negative_slope)

        def backward(*args, upstream=None):
            if upstream is None:  # TensorFlow passes it positionally, JAX by name.
                (upstream,) = args
            # From the output, not the input: the input (a BiasAdd) may be fused away.
            slope = keras.ops.where(y > 0, keras.ops.ones_like(y), keras.ops.full_like(y, negative_slope))
            return upstream * slope

        return y, backward

    return forward(inputs)
