"""LeakyReLU as `max(x, slope * x)`, a form TensorFlow's graph optimizer does not mis-fuse."""

import keras


@keras.saving.register_keras_serializable(package="tfvidgen")
class LeakyReLU(keras.layers.LeakyReLU):
    """`keras.layers.LeakyReLU` computed as `max(x, negative_slope * x)`.

    Equal to Keras' layer for every input (for `0 <= negative_slope <= 1` the two
    forms pick the same value), with the same config and no weights. It exists
    for TensorFlow's Grappler remapper, which fuses `Conv + BiasAdd + LeakyRelu`
    and then fails on the discriminator's training graph ("remapper failed:
    ... fanout ... LeakyReluGrad exist for missing node ... BiasAdd", printed on
    every `tfvidgen train dcgan`), leaving that graph without any of its fusions.

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
                f"`negative_slope` must be in [0, 1] (max(x, slope * x) is LeakyReLU only there). "
                f"Received: negative_slope={negative_slope!r}"
            )
        super().__init__(negative_slope=negative_slope, **kwargs)

    def call(self, inputs):
        return keras.ops.maximum(inputs, inputs * self.negative_slope)
