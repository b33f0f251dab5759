"""The DCGAN video discriminator: clip -> realness logit."""

import keras

from tfvidgen import validation
from tfvidgen.layers import BrightnessTrack
from tfvidgen.layers import LeakyReLU
from tfvidgen.layers import MinibatchStddev
from tfvidgen.layers import TimeDistributed
from tfvidgen.layers import blocks
from tfvidgen.models.constructor_config import ConstructorConfig


@keras.saving.register_keras_serializable(package="tfvidgen")
class VideoDiscriminator(ConstructorConfig, keras.Model):
    """Scores clips with a stack of stride-2 `Conv3D` layers and LeakyReLU.

    No pooling and no batch norm (so per-example scores stay independent of
    the batch); spectral normalization (Miyato et al., 2018) of every layer is
    an option, through `keras.layers.SpectralNormalization`. So is a
    minibatch standard deviation channel before the head (Karras et al.,
    2018), which lets the discriminator see how diverse a group of clips is
    and so punishes mode collapse; scores then depend on the clip's group of
    `minibatch_stddev_group` consecutive clips. Clips in [0, 1] are mapped to
    [-1, 1] inside.

    Args:
        clip_shape: `(frames, height, width, channels)`; height and width
            divisible by `2 ** len(filters)`.
        filters: filters of each stride-2 convolution.
        spectral_norm: spectrally normalize every convolution and the head.
        minibatch_stddev_group: `None` (off) or the group size (>= 2) of a
            `tfvidgen.layers.MinibatchStddev` channel added before the head.
        frame_filters: `None` (off), or the filters of a second stream that
            scores every frame on its own (stride-2 `Conv2D` per frame, as
            MoCoGAN's image discriminator): the clip's logit is the video
            stream's plus the mean of the frames'. A clip with a faded or
            empty frame is then judged fake however its whole is judged.
        brightness_filters: `None` (off), or the filters of a third stream
            that scores the clip's brightness track: each frame's channel
            means relative to the clip's, through `Conv1D` layers over time.
            Real clips keep their brightness (and colour) from frame to frame;
            a generator whose content fades in and out, or whose frames
            flicker, changes it, and the convolutional streams, which weigh a
            few faint pixels little, barely see that.

    Input shape:
        `(batch, frames, height, width, channels)` in [0, 1].

    Output shape:
        `(batch, 1)` float32 logits: higher means "real".

    Example:

    >>> discriminator = VideoDiscriminator((4, 16, 16, 1), filters=(8, 16))
    >>> discriminator(keras.ops.zeros((2, 4, 16, 16, 1))).shape
    (2, 1)
    """

    def __init__(
        self,
        clip_shape=(16, 64, 64, 1),
        filters=(32, 64, 128, 256),
        spectral_norm=False,
        minibatch_stddev_group=None,
        frame_filters=None,
        brightness_filters=None,
        **kwargs,
    ):
        clip_shape = blocks.check_clip_shape("clip_shape", clip_shape)
        filters = validation.int_list("filters", filters)
        frame_filters = None if frame_filters is None else validation.int_list("frame_filters", frame_filters)
        if brightness_filters is not None:
            brightness_filters = validation.int_list("brightness_filters", brightness_filters)
        strides, _ = blocks.strides_for(clip_shape, len(filters))

        # === Functional Model ===
        clips = keras.Input(clip_shape, name="clips")
        x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(clips)
        x = blocks.downsampling_stack(
            x, filters, strides, spectral_norm=spectral_norm, name="discriminator", leaky_relu=LeakyReLU
        )
        if minibatch_stddev_group is not None:
            x = MinibatchStddev(minibatch_stddev_group, name="minibatch_stddev")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        head = keras.layers.Dense(1, dtype="float32", name="logit")
        logit = blocks.spectrally_normalized(head, spectral_norm, "logit_spectral_norm", dtype="float32")(x)
        if frame_filters is not None:
            frame_logits = _frame_stream(clips, clip_shape, frame_filters, spectral_norm)
            logit = keras.layers.Add(dtype="float32", name="video_and_frames")([logit, frame_logits])
        if brightness_filters is not None:
            brightness_logit = _brightness_stream(clips, brightness_filters, spectral_norm)
            logit = keras.layers.Add(dtype="float32", name="with_brightness")([logit, brightness_logit])
        super().__init__(inputs=clips, outputs=logit, **kwargs)

        # === Config ===
        self.clip_shape = clip_shape
        self.filters = filters
        self.spectral_norm = bool(spectral_norm)
        self.minibatch_stddev_group = None if minibatch_stddev_group is None else int(minibatch_stddev_group)
        self.frame_filters = frame_filters
        self.brightness_filters = brightness_filters


def _frame_stream(clips, clip_shape, filters, spectral_norm):
    """`(batch, frames, H, W, C)` -> `(batch, 1)`: the mean over frames of a per-frame 2D-conv logit."""
    factor = 2 ** len(filters)
    if clip_shape[1] % factor or clip_shape[2] % factor:
        raise ValueError(
            f"`clip_shape` height and width ({clip_shape[1]}x{clip_shape[2]}) must divide by 2**{len(filters)} = "
            f"{factor} for {len(filters)} frame_filters. Received: frame_filters={filters}"
        )
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="frames_to_signed")(clips)
    for index, layer_filters in enumerate(filters):
        conv = keras.layers.Conv2D(layer_filters, 4, strides=2, padding="same", name=f"frame_conv2d_{index}")
        conv = blocks.spectrally_normalized(conv, spectral_norm, f"frame_spectral_norm_{index}")
        x = TimeDistributed(conv, name=f"frame_conv_{index}")(x)
        x = LeakyReLU(0.2, name=f"frame_leaky_relu_{index}")(x)
    x = keras.layers.Reshape((clip_shape[0], -1), name="frame_flatten")(x)
    dense = blocks.spectrally_normalized(
        keras.layers.Dense(1, name="frame_logit_dense"), spectral_norm, "frame_logit_spectral_norm"
    )
    x = TimeDistributed(dense, name="frame_logit")(x)
    return keras.layers.GlobalAveragePooling1D(name="mean_frame_logit")(x)


def _brightness_stream(clips, filters, spectral_norm):
    """`(batch, frames, H, W, C)` -> `(batch, 1)`: a logit from the clip's brightness track (`BrightnessTrack`)."""
    x = BrightnessTrack(name="brightness_track")(clips)
    for index, layer_filters in enumerate(filters):
        conv = keras.layers.Conv1D(layer_filters, 3, padding="same", name=f"brightness_conv_{index}")
        x = blocks.spectrally_normalized(conv, spectral_norm, f"brightness_conv_{index}_spectral_norm")(x)
        x = LeakyReLU(0.2, name=f"brightness_leaky_relu_{index}")(x)
    x = keras.layers.Flatten(name="brightness_flatten")(x)
    dense = keras.layers.Dense(1, dtype="float32", name="brightness_logit")
    return blocks.spectrally_normalized(dense, spectral_norm, "brightness_logit_spectral_norm", dtype="float32")(x)
