"""The reparameterization trick as a reusable Keras layer."""

import keras
from keras import ops

from tfvidgen import replica_random


@keras.saving.register_keras_serializable(package="tfvidgen")
class Sampling(keras.layers.Layer):
    """Draws `z = mean + exp(log_var / 2) * eps`, `eps ~ N(0, I)` (Kingma & Welling, 2014).

    `eps` comes from a `keras.random.SeedGenerator` owned by the layer, in the
    layer's compute dtype (float16/bfloat16 under mixed precision). Under a
    `tf.distribute` strategy every replica draws distinct noise: the noise of
    the global batch is drawn from the shared seed and each replica keeps its
    slice, so N replicas see exactly what one device would.

    Args:
        seed: int seed of the layer's `SeedGenerator` (`None`: random).
        deterministic: when True, return `mean` (no noise). Can be overridden
            per call.

    Call arguments:
        z_mean: `(batch, latent_dim)` means, or the list `[z_mean, z_log_var]`
            (keras.io's convention: `Sampling()([z_mean, z_log_var])`).
        z_log_var: `(batch, latent_dim)` log-variances.
        deterministic: optional bool overriding the constructor's.

    Output shape:
        `(batch, latent_dim)`.

    Example:

    >>> sampling = Sampling(seed=1)
    >>> z = sampling(keras.ops.zeros((4, 8)), keras.ops.zeros((4, 8)))
    >>> z.shape
    (4, 8)

    Reference:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    """

    def __init__(self, seed=None, deterministic=False, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.deterministic = bool(deterministic)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, z_mean, z_log_var=None, deterministic=None):
        if z_log_var is None:
            if not isinstance(z_mean, (list, tuple)) or len(z_mean) != 2:
                raise ValueError(
                    "Sampling takes `z_mean, z_log_var` or the list `[z_mean, z_log_var]`. "
                    f"Received one input of type {type(z_mean).__name__}."
                )
            z_mean, z_log_var = z_mean
        deterministic = self.deterministic if deterministic is None else deterministic
        if deterministic:
            return z_mean
        epsilon = replica_random.normal(ops.shape(z_mean), self.seed_generator, dtype=self.compute_dtype)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, z_mean_shape, z_log_var_shape=None):
        if (
            z_log_var_shape is None
            and isinstance(z_mean_shape, (list, tuple))
            and isinstance(z_mean_shape[0], (list, tuple))
        ):
            return tuple(z_mean_shape[0])  # `[z_mean, z_log_var]` passed as one list.
        return z_mean_shape

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "deterministic": self.deterministic})
        return config
