"""The VAE encoder: clip -> posterior mean and log-variance."""

import keras

from tfvidgen import validation
from tfvidgen.layers import blocks
from tfvidgen.models.constructor_config import ConstructorConfig

LOG_VAR_BOUND = 15.0  # |log-variance| < 15: exp() stays far from float32 overflow.


@keras.saving.register_keras_serializable(package="tfvidgen")
class VideoEncoder(ConstructorConfig, keras.Model):
    """Maps clips to a diagonal Gaussian posterior with a stride-2 `Conv3D` stack.

    The log-variance is soft-bounded to [-15, 15] by
    `15 * tanh(raw / 15)` (near-identity in the usual range, standard
    deviations from 5.5e-4 to 1,800): unbounded, one bad step can overflow
    `exp(log_var)` to inf and turn the KL term and every weight into NaN, as a
    `cpu_small` run did after 1,800 steps.

    Args:
        clip_shape: `(frames, height, width, channels)`; height and width
            divisible by `2 ** len(filters)`.
        latent_dim: size of the latent vector.
        filters: filters of each stride-2 convolution (LeakyReLU, no batch
            norm, so a clip's encoding does not depend on its batch).
        time_halvings: how many of the convolutions (the first ones) also
            halve time; `None`: as many as `frames` allows.

    Input shape:
        `(batch, frames, height, width, channels)` in [0, 1].

    Output shape:
        `[z_mean, z_log_var]`, each `(batch, latent_dim)` float32.

    Example:

    >>> encoder = VideoEncoder((4, 16, 16, 1), latent_dim=8, filters=(8, 16))
    >>> [t.shape for t in encoder(keras.ops.zeros((2, 4, 16, 16, 1)))]
    [(2, 8), (2, 8)]
    """

    def __init__(
        self, clip_shape=(16, 64, 64, 1), latent_dim=64, filters=(32, 64, 128, 256), time_halvings=None, **kwargs
    ):
        clip_shape = blocks.check_clip_shape("clip_shape", clip_shape)
        latent_dim = validation.positive_int("latent_dim", latent_dim)
        filters = validation.int_list("filters", filters)
        strides, _ = blocks.strides_for(clip_shape, len(filters), time_halvings)

        # === Functional Model ===
        clips = keras.Input(clip_shape, name="clips")
        x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(clips)
        x = blocks.downsampling_stack(x, filters, strides, name="encoder")
        x = keras.layers.Flatten(name="flatten")(x)
        z_mean = keras.layers.Dense(latent_dim, dtype="float32", name="z_mean")(x)
        x = keras.layers.Dense(latent_dim, dtype="float32", name="z_log_var_raw")(x)
        x = keras.layers.Rescaling(1.0 / LOG_VAR_BOUND, dtype="float32", name="z_log_var_scale_down")(x)
        x = keras.layers.Activation("tanh", dtype="float32", name="z_log_var_soft_bound")(x)
        z_log_var = keras.layers.Rescaling(LOG_VAR_BOUND, dtype="float32", name="z_log_var")(x)
        super().__init__(inputs=clips, outputs=[z_mean, z_log_var], **kwargs)

        # === Config ===
        self.clip_shape = clip_shape
        self.latent_dim = latent_dim
        self.filters = filters
        self.time_halvings = None if time_halvings is None else int(time_halvings)
