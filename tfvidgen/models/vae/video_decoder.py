"""The VAE decoder: latent vector -> clip."""

import keras

from tfvidgen import validation
from tfvidgen.layers import blocks
from tfvidgen.models.constructor_config import ConstructorConfig


@keras.saving.register_keras_serializable(package="tfvidgen")
class VideoDecoder(ConstructorConfig, keras.Model):
    """Decodes latent vectors to clips with a `Conv3DTranspose` stack.

    A dense projection to a small spatio-temporal map, stride-2 transposed
    convolutions with batch norm and ReLU, and a float32 sigmoid output, so
    the Bernoulli reconstruction loss can recover the logits (Keras does so
    for a tensor produced by a sigmoid).

    Args:
        clip_shape: `(frames, height, width, channels)` to decode to.
        latent_dim: size of the latent vector.
        filters: filters of the projection and of each transposed
            convolution but the last.
        synchronized_batch_norm: synchronize batch statistics across replicas.
        upsampling: `"transpose"` (stride-2 `Conv3DTranspose`) or `"resize"`
            (nearest-neighbour repetition, then `Conv3D`: no checkerboard),
            as `VideoGenerator`'s.
        coordinates: give every upsampling convolution (time, row, column)
            position channels (`tfvidgen.layers.CoordinateChannels`,
            CoordConv), so digits can be placed where the latent says.
        time_halvings: how many of the upsampling steps (the last ones,
            mirroring `VideoEncoder`'s first) also double time; `None`: as
            many as `frames` allows (the first ones), from a single
            projected frame at 16 frames and 4 steps.

    Input shape:
        `(batch, latent_dim)`.

    Output shape:
        `(batch, frames, height, width, channels)`, float32 in [0, 1].

    Example:

    >>> decoder = VideoDecoder((4, 16, 16, 1), latent_dim=8, filters=(16, 8))
    >>> decoder(keras.ops.zeros((2, 8))).shape
    (2, 4, 16, 16, 1)
    """

    def __init__(
        self,
        clip_shape=(16, 64, 64, 1),
        latent_dim=64,
        filters=(256, 128, 64, 32),
        synchronized_batch_norm=True,
        upsampling="transpose",
        coordinates=False,
        time_halvings=None,
        **kwargs,
    ):
        upsampling = validation.one_of("upsampling", upsampling, blocks.UPSAMPLING_MODES)
        clip_shape = blocks.check_clip_shape("clip_shape", clip_shape)
        latent_dim = validation.positive_int("latent_dim", latent_dim)
        filters = validation.int_list("filters", filters)
        strides, bottom = blocks.strides_for(clip_shape, len(filters), time_halvings)
        if time_halvings is not None:  # The encoder halves time first, at full size; the decoder doubles it last.
            strides = strides[::-1]  # (None keeps the order of the decoders saved before the option.)

        # === Functional Model ===
        z = keras.Input((latent_dim,), name="latents")
        x = blocks.project_latent(z, bottom, filters[0], synchronized_batch_norm, name="decoder_project")
        x = blocks.upsampling_stack(
            x, filters[1:], strides[:-1], synchronized_batch_norm, "decoder", upsampling, coordinates
        )
        x = blocks.upsample(x, clip_shape[-1], strides[-1], upsampling, "logits", True, coordinates)
        clips = keras.layers.Activation("sigmoid", dtype="float32", name="clips")(x)
        super().__init__(inputs=z, outputs=clips, **kwargs)

        # === Config ===
        self.clip_shape = clip_shape
        self.latent_dim = latent_dim
        self.filters = filters
        self.synchronized_batch_norm = bool(synchronized_batch_norm)
        self.upsampling = upsampling
        self.coordinates = bool(coordinates)
        self.time_halvings = None if time_halvings is None else int(time_halvings)
