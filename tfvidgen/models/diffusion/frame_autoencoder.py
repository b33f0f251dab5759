"""A per-frame convolutional autoencoder: the latent space the video diffusion model works in on a CPU."""

import keras

from tfvidgen import validation
from tfvidgen.layers import TimeDistributed
from tfvidgen.models.constructor_config import ConstructorConfig


@keras.saving.register_keras_serializable(package="tfvidgen")
class FrameAutoencoder(ConstructorConfig, keras.Model):
    """Encodes each frame to a small spatial latent and decodes it back, latent-diffusion style.

    Diffusion in pixel space at 16 frames of 64x64 costs a 2-core CPU too much
    per step; Rombach et al. (2022) run it in the latent space of an
    autoencoder instead. This one works frame by frame (time is the diffusion
    network's job): `Conv2D -> GroupNorm -> SiLU` layers, stride 2 where
    `strides` says, to `latent_channels` channels; the decoder mirrors it
    with nearest-neighbour upsampling and reads out with a sigmoid. It has no
    KL term: `VideoDiffusion` scales its latents by their running RMS.

    Args:
        frame_shape: `(height, width, channels)`, height and width divisible
            by `2 ** len(filters)`.
        filters: filters of the encoder's stride-2 layers (the decoder's in
            reverse); the latent is `2 ** len(filters)` times smaller per side.
        latent_channels: channels of the latent.
        groups: group-normalization groups.

    Call arguments:
        frames: `(batch, frames, height, width, channels)` in [0, 1]; returns
            the reconstruction.

    Example:

    >>> autoencoder = FrameAutoencoder((16, 16, 1), filters=(8, 16), latent_channels=4)
    >>> autoencoder.encoder(keras.ops.zeros((2, 3, 16, 16, 1))).shape
    (2, 3, 4, 4, 4)

    Reference:
        Rombach et al., "High-Resolution Image Synthesis with Latent Diffusion
        Models", CVPR 2022.
    """

    def __init__(self, frame_shape=(64, 64, 1), filters=(32, 64), latent_channels=4, groups=8, **kwargs):
        height, width, channels = validation.frame_shape("frame_shape", frame_shape)
        filters = validation.int_list("filters", filters)
        latent_channels = validation.positive_int("latent_channels", latent_channels)
        groups = validation.positive_int("groups", groups)
        factor = 2 ** len(filters)
        if height % factor or width % factor:
            raise ValueError(
                f"`frame_shape`'s height and width ({height}x{width}) must divide by 2**len(filters) = {factor}. "
                f"Received: frame_shape={frame_shape}, filters={filters}"
            )
        latent_shape = (height // factor, width // factor, latent_channels)

        # === Functional Model ===
        frames = keras.Input((None, height, width, channels), name="frames")
        x = _block(frames, filters[0], 1, groups, "encoder_in")
        for index, layer_filters in enumerate(filters):
            x = _block(x, layer_filters, 2, groups, f"encoder_{index}")
            x = _block(x, layer_filters, 1, groups, f"encoder_{index}_refine")
        latents = TimeDistributed(keras.layers.Conv2D(latent_channels, 1, name="latents_conv2d"), name="latents")(x)
        encoder = keras.Model(frames, latents, name="encoder")

        codes = keras.Input((None,) + latent_shape, name="latents")
        x = _block(codes, filters[-1], 1, groups, "decoder_in")
        for index, layer_filters in reversed(list(enumerate(filters))):
            x = TimeDistributed(keras.layers.UpSampling2D(2, name=f"decoder_{index}_up2d"), name=f"decoder_{index}_up")(
                x
            )
            x = _block(x, layer_filters, 1, groups, f"decoder_{index}")
            x = _block(x, layer_filters, 1, groups, f"decoder_{index}_refine")
        x = TimeDistributed(keras.layers.Conv2D(channels, 3, padding="same", name="readout_conv2d"), name="readout")(x)
        reconstruction = keras.layers.Activation("sigmoid", dtype="float32", name="reconstruction")(x)
        decoder = keras.Model(codes, reconstruction, name="decoder")

        super().__init__(inputs=frames, outputs=decoder(encoder(frames)), **kwargs)
        self.encoder = encoder
        self.decoder = decoder

        # === Config ===
        self.frame_shape = (height, width, channels)
        self.filters = filters
        self.latent_channels = latent_channels
        self.groups = groups
        self.latent_shape = latent_shape


def _block(x, filters, strides, groups, name):
    conv = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", name=f"{name}_conv2d")
    x = TimeDistributed(conv, name=f"{name}_conv")(x)
    x = keras.layers.GroupNormalization(min(groups, filters), epsilon=1e-5, name=f"{name}_norm")(x)
    return keras.layers.Activation("silu", name=f"{name}_silu")(x)
