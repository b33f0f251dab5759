"""The SimVP network: a block of context frames in, a block of future frames out, all convolutional."""

import keras

from tfvidgen import validation
from tfvidgen.layers import DepthToSpace
from tfvidgen.layers import SpaceToDepth
from tfvidgen.layers import TimeDistributed
from tfvidgen.models.constructor_config import ConstructorConfig


@keras.saving.register_keras_serializable(package="tfvidgen")
class SimVPBackbone(ConstructorConfig, keras.Model):
    """Spatial encoder, temporal translator and spatial decoder, SimVP-style.

    1. Frames are folded into patches (space-to-depth) and encoded one by one
       by `Conv2D -> GroupNorm -> SiLU` layers (`spatial_strides` of 2 halve
       the resolution).
    2. The translator stacks the context frames' features along channels,
       `(h, w, context_frames * spatial_filters)`, and runs ConvNeXt-style
       residual blocks on them (depthwise `translator_kernel_size` convolution,
       normalization, a 1x1 MLP 4x wide): every future frame sees every
       context frame, in one pass, with no recurrence.
    3. The decoder maps the translator's output to `future_frames` feature
       maps, adds the last context frame's first encoder features (a skip for
       appearance), upsamples by pixel shuffle where the encoder went down, and
       reads each frame out with a sigmoid.

    Convolutions over whole blocks of frames use 2 CPU cores far better than a
    recurrence does, one frame at a time.

    Args:
        frame_shape: `(height, width, channels)`; height and width divisible by
            `patch_size * 2**(number of 2s in spatial_strides)`.
        context_frames: frames in (static).
        future_frames: frames out per pass (static); longer horizons are rolled
            out block by block (`SimVPPredictor.predict_future`).
        spatial_filters: filters of the encoder and decoder layers.
        spatial_strides: stride (1 or 2) of each encoder layer; the decoder
            mirrors them.
        translator_filters: channels of the translator's blocks.
        translator_blocks: number of translator blocks.
        translator_kernel_size: depthwise kernel size of those blocks.
        patch_size: space-to-depth patch side (1 for none).
        output_activation: `"sigmoid"` keeps frames in [0, 1].

    Input shape:
        `(batch, context_frames, height, width, channels)`.

    Output shape:
        `(batch, future_frames, height, width, channels)` float32.

    Example:

    >>> backbone = SimVPBackbone((16, 16, 1), 2, 3, spatial_filters=8, translator_filters=16)
    >>> backbone(keras.ops.zeros((2, 2, 16, 16, 1))).shape
    (2, 3, 16, 16, 1)

    Reference:
        Gao et al., "SimVP: Simpler yet Better Video Prediction", CVPR 2022.
        Tan et al., "SimVP: Towards Simple yet Powerful Spatiotemporal
        Predictive Learning" (v2), 2022. Liu et al., "A ConvNet for the 2020s",
        CVPR 2022 (the translator's block).
    """

    def __init__(
        self,
        frame_shape=(64, 64, 1),
        context_frames=10,
        future_frames=10,
        spatial_filters=32,
        spatial_strides=(1, 2),
        translator_filters=256,
        translator_blocks=4,
        translator_kernel_size=7,
        patch_size=2,
        output_activation="sigmoid",
        **kwargs,
    ):
        height, width, channels = validation.frame_shape("frame_shape", frame_shape)
        context_frames = validation.positive_int("context_frames", context_frames)
        future_frames = validation.positive_int("future_frames", future_frames)
        spatial_filters = validation.positive_int("spatial_filters", spatial_filters)
        spatial_strides = validation.int_list("spatial_strides", spatial_strides)
        if any(stride not in (1, 2) for stride in spatial_strides):
            raise ValueError(f"`spatial_strides` must hold 1s and 2s. Received: spatial_strides={spatial_strides}")
        translator_filters = validation.positive_int("translator_filters", translator_filters)
        translator_blocks = validation.non_negative_int("translator_blocks", translator_blocks)
        translator_kernel_size = validation.positive_int("translator_kernel_size", translator_kernel_size)
        patch_size = validation.positive_int("patch_size", patch_size)
        factor = patch_size * 2 ** spatial_strides.count(2)
        if height % factor or width % factor:
            raise ValueError(
                f"The frame height and width ({height}x{width}) must divide by patch_size * 2**(number of 2s in "
                f"spatial_strides) = {factor}. Received: patch_size={patch_size}, spatial_strides={spatial_strides}"
            )
        bottom = (height // factor, width // factor)

        # === Functional Model ===
        frames = keras.Input(shape=(context_frames, height, width, channels), name="context")
        x = SpaceToDepth(patch_size, name="space_to_depth")(frames)
        skip = None
        for index, stride in enumerate(spatial_strides):
            x = _frame_block(x, spatial_filters, stride, f"encoder_{index}")
            if skip is None:
                skip = x[:, -1:]  # The last context frame's features, at the first layer's resolution.
        x = _stack_frames(x, bottom, context_frames, spatial_filters)
        x = keras.layers.Conv2D(translator_filters, 1, name="translator_in")(x)
        for index in range(translator_blocks):
            x = _convnext_block(x, translator_filters, translator_kernel_size, f"translator_{index}")
        x = keras.layers.Conv2D(future_frames * spatial_filters, 1, name="translator_out")(x)
        x = _unstack_frames(x, bottom, future_frames, spatial_filters)
        for index, stride in reversed(list(enumerate(spatial_strides))):
            if index == 0:
                x = keras.layers.Add(name="skip")([x, keras.ops.repeat(skip, future_frames, axis=1)])
            x = _frame_block(x, spatial_filters, 1 / stride, f"decoder_{index}")
        readout = TimeDistributed(
            keras.layers.Conv2D(channels * patch_size**2, 1, name="readout_conv2d"), name="readout"
        )(x)
        x = DepthToSpace(patch_size, name="depth_to_space")(readout)
        outputs = keras.layers.Activation(output_activation, dtype="float32", name="future_frames")(x)
        super().__init__(inputs=frames, outputs=outputs, **kwargs)

        # === Config ===
        self.frame_shape = (height, width, channels)
        self.context_frames = context_frames
        self.future_frames = future_frames
        self.spatial_filters = spatial_filters
        self.spatial_strides = spatial_strides
        self.translator_filters = translator_filters
        self.translator_blocks = translator_blocks
        self.translator_kernel_size = translator_kernel_size
        self.patch_size = patch_size
        self.output_activation = output_activation


def _frame_block(x, filters, stride, name):
    """Per frame: `Conv2D(3x3)` (stride 2 down, or to 4x channels and pixel shuffle up) -> GroupNorm -> SiLU."""
    if stride == 0.5:
        x = TimeDistributed(
            keras.layers.Conv2D(filters * 4, 3, padding="same", name=f"{name}_conv2d"), name=f"{name}_conv"
        )(x)
        x = DepthToSpace(2, name=f"{name}_pixel_shuffle")(x)
    else:
        conv = keras.layers.Conv2D(filters, 3, strides=int(stride), padding="same", name=f"{name}_conv2d")
        x = TimeDistributed(conv, name=f"{name}_conv")(x)
    x = keras.layers.GroupNormalization(groups=2, name=f"{name}_norm")(x)
    return keras.layers.Activation("silu", name=f"{name}_silu")(x)


def _stack_frames(x, size, frames, filters):
    """`(batch, frames, h, w, filters)` -> `(batch, h, w, frames * filters)`."""
    x = keras.layers.Permute((2, 3, 1, 4), name="stack_frames")(x)
    return keras.layers.Reshape(size + (frames * filters,), name="frames_as_channels")(x)


def _unstack_frames(x, size, frames, filters):
    """`(batch, h, w, frames * filters)` -> `(batch, frames, h, w, filters)`."""
    x = keras.layers.Reshape(size + (frames, filters), name="channels_as_frames")(x)
    return keras.layers.Permute((3, 1, 2, 4), name="unstack_frames")(x)


def _convnext_block(x, filters, kernel_size, name):
    """`x + MLP(norm(depthwise(x)))`: a ConvNeXt block (depthwise conv, LayerNorm, 1x1 4x wide with GELU, 1x1)."""
    y = keras.layers.DepthwiseConv2D(kernel_size, padding="same", name=f"{name}_depthwise")(x)
    y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm")(y)
    y = keras.layers.Dense(4 * filters, activation="gelu", name=f"{name}_expand")(y)
    y = keras.layers.Dense(filters, name=f"{name}_project")(y)
    return keras.layers.Add(name=f"{name}_residual")([x, y])
