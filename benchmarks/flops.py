"""Analytic FLOP counts for the layers tfvidgen's benchmarks time.

A multiply-add counts as 2 FLOPs; elementwise gate math, normalisation and
activations are left out (under 2% here). A training step is counted as 3x the
forward pass (backward = 2x forward), the usual convention.
"""

import keras


def _positions(shape):
    return shape[-3] * shape[-2]  # channels_last (..., height, width, channels)


def layer_forward_flops(layer, input_shape, output_shape):
    """Forward FLOPs of one frame through `layer` (0 for layers without weights that matter)."""
    if isinstance(layer, keras.layers.ConvLSTM2D):
        kernel = layer.kernel_size[0] * layer.kernel_size[1]
        input_channels, filters = input_shape[-1], layer.filters
        return 2 * _positions(output_shape) * kernel * (input_channels + filters) * 4 * filters
    if isinstance(layer, keras.layers.Conv3D):
        time_kernel, height_kernel, width_kernel = layer.kernel_size
        return (
            2 * _positions(output_shape) * time_kernel * height_kernel * width_kernel * input_shape[-1] * layer.filters
        )
    if isinstance(layer, keras.layers.Conv2D):
        return (
            2 * _positions(output_shape) * layer.kernel_size[0] * layer.kernel_size[1] * input_shape[-1] * layer.filters
        )
    return 0


def model_forward_flops_per_frame(model):
    """Sums `layer_forward_flops` over a Functional model's layers, per frame."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        total += layer_forward_flops(layer, layer.input.shape, layer.output.shape)
    return total
