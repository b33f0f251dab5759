"""3D-convolution stacks shared by the GAN and VAE networks.

A stack of `n` stride-2 layers halves (or doubles) height and width `n` times;
time is halved (doubled) by the first layers only while the clip length allows
it, so 16-frame and 4-frame clips use the same stacks. `strides_for` computes
those strides and the size of the smallest feature map; the builders add the
layers to a Functional graph.
"""

import keras

from tfvidgen import validation
from tfvidgen.layers.coordinate_channels import CoordinateChannels


def strides_for(clip_shape, num_layers, time_halvings=None):
    """Per-layer strides and the bottom feature-map size for `num_layers` stride-2 layers.

    Args:
        clip_shape: `(frames, height, width, channels)`.
        num_layers: number of resolution changes.
        time_halvings: how many layers also halve time, at most as many as
            `frames` allows; `None`: as many as it allows (16 frames through 4
            layers: all 4, down to 1 frame).

    Returns:
        `(strides, bottom)`: a list of `(time, 2, 2)` strides, time 2 for the
        first `k` layers where `frames` divides by `2**k` (largest `k <=
        num_layers`, and `k <= time_halvings`), and
        `(frames, height, width) / 2**...`.

    Raises:
        ValueError: when height or width does not divide by `2**num_layers`,
            or `time_halvings` is negative.
        TypeError: when `time_halvings` is neither None nor an integer.
    """
    frames, height, width = clip_shape[:3]
    factor = 2**num_layers
    if height % factor or width % factor:
        raise ValueError(
            f"`clip_shape` height and width ({height}x{width}) must divide by 2**{num_layers} = {factor} "
            f"for {num_layers} stride-2 layers. Received: clip_shape={tuple(clip_shape)}"
        )
    if time_halvings is not None:
        time_halvings = validation.non_negative_int("time_halvings", time_halvings)
    limit = num_layers if time_halvings is None else min(num_layers, time_halvings)
    halvings = 0
    while halvings < limit and frames % 2 ** (halvings + 1) == 0:
        halvings += 1
    strides = [(2 if index < halvings else 1, 2, 2) for index in range(num_layers)]
    return strides, (frames // 2**halvings, height // factor, width // factor)


def check_clip_shape(name, clip_shape):
    """Validates `(frames, height, width, channels)` and returns it as a tuple of ints."""
    clip_shape = tuple(clip_shape)
    if len(clip_shape) != 4:
        raise ValueError(f"`{name}` must be (frames, height, width, channels). Received: {name}={clip_shape!r}")
    for index, size in enumerate(clip_shape[:3]):
        validation.positive_int(f"{name}[{index}]", size)
    validation.channels(f"{name}[3]", clip_shape[3])
    return tuple(int(size) for size in clip_shape)


def spectrally_normalized(layer, enabled, name, **kwargs):
    """`layer` inside a `SpectralNormalization` named `name` (with `kwargs`) when `enabled`, else `layer` itself."""
    return keras.layers.SpectralNormalization(layer, name=name, **kwargs) if enabled else layer


def downsampling_stack(
    x, filters, strides, spectral_norm=False, batch_norm=False, name="down", leaky_relu=keras.layers.LeakyReLU
):
    """`Conv3D(kernel 4, stride)` -> [BatchNorm] -> LeakyReLU(0.2), one per entry of `filters`.

    `leaky_relu` is the LeakyReLU layer class (`tfvidgen.layers.LeakyReLU` where
    TensorFlow's remapper mis-fuses Keras' one).
    """
    for index, (layer_filters, stride) in enumerate(zip(filters, strides)):
        conv = keras.layers.Conv3D(layer_filters, 4, strides=stride, padding="same", name=f"{name}_conv_{index}")
        x = spectrally_normalized(conv, spectral_norm, f"{name}_spectral_norm_{index}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{name}_batch_norm_{index}")(x)
        x = leaky_relu(0.2, name=f"{name}_leaky_relu_{index}")(x)
    return x


UPSAMPLING_MODES = ("transpose", "resize")


def upsample(x, layer_filters, stride, mode, name, use_bias=False, coordinates=False, per_frame=False):
    """One resolution step up by `stride`, named `name`.

    `"transpose"`: `Conv3DTranspose(kernel 4, stride)`. `"resize"`: nearest
    neighbour repetition by `stride`, then `Conv3D(kernel 3)`, which cannot
    make the checkerboard of overlapping transposed kernels (Odena et al.,
    "Deconvolution and Checkerboard Artifacts", Distill 2016). With
    `coordinates`, the convolution also sees (time, row, column) position
    channels (`CoordinateChannels`, CoordConv). With `per_frame`, kernels
    span one frame (`(1, 4, 4)` or `(1, 3, 3)`): every frame is drawn on its
    own, as by a 2D generator shared over time.
    """
    if coordinates:
        x = CoordinateChannels(name=f"{name}_coordinates")(x)
    if mode == "transpose":
        kernel = (1, 4, 4) if per_frame else 4
        return keras.layers.Conv3DTranspose(
            layer_filters, kernel, strides=stride, padding="same", use_bias=use_bias, name=name
        )(x)
    x = keras.layers.UpSampling3D(stride, name=f"{name}_repeat")(x)
    kernel = (1, 3, 3) if per_frame else 3
    return keras.layers.Conv3D(layer_filters, kernel, padding="same", use_bias=use_bias, name=name)(x)


def batch_norm(synchronized, name):
    """`BatchNormalization`, synchronized across `tf.distribute` replicas when asked.

    Only TensorFlow has the option: JAX's data parallelism traces one program
    over the global batch, so its batch statistics are the global batch's
    already.
    """
    if keras.backend.backend() == "tensorflow":
        return keras.layers.BatchNormalization(synchronized=synchronized, name=name)
    return keras.layers.BatchNormalization(name=name)


def upsampling_stack(
    x,
    filters,
    strides,
    synchronized_batch_norm=True,
    name="up",
    mode="transpose",
    coordinates=False,
    per_frame=False,
):
    """`upsample(mode, coordinates, per_frame)` -> BatchNorm -> ReLU per entry of `filters`.

    Batch norm is synchronized across replicas by default, so a step on N
    replicas normalises with the statistics of the global batch, as one
    device would.
    """
    validation.one_of("upsampling", mode, UPSAMPLING_MODES)
    for index, (layer_filters, stride) in enumerate(zip(filters, strides)):
        kind = "deconv" if mode == "transpose" else "upconv"
        x = upsample(
            x, layer_filters, stride, mode, f"{name}_{kind}_{index}", coordinates=coordinates, per_frame=per_frame
        )
        x = batch_norm(synchronized_batch_norm, name=f"{name}_batch_norm_{index}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu_{index}")(x)
    return x


def project_latent(z, bottom_shape, filters, synchronized_batch_norm=True, name="project"):
    """Dense -> reshape to `bottom_shape + (filters,)` -> BatchNorm -> ReLU.

    `z` is `(batch, latent)`, or a sequence of codes `(batch, frames, code)` whose frames are `bottom_shape`'s
    first axis: the Dense then projects each frame's code to its own map.
    """
    units = filters
    for size in bottom_shape[len(z.shape) - 2 :]:  # The axes `z` does not have already.
        units *= size
    x = keras.layers.Dense(units, use_bias=False, name=f"{name}_dense")(z)
    x = keras.layers.Reshape(tuple(bottom_shape) + (filters,), name=f"{name}_reshape")(x)
    x = batch_norm(synchronized_batch_norm, name=f"{name}_batch_norm")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)
