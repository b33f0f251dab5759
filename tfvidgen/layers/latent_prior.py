"""A Gaussian prior over latents, fitted after training to where the encoder puts them."""

import keras
import numpy as np
from keras import ops

from tfvidgen import validation

# Added to the covariance's diagonal before the Cholesky factorisation: a latent direction the encoder never
# uses (zero variance) would otherwise make it fail.
COVARIANCE_JITTER = 1e-5


@keras.saving.register_keras_serializable(package="tfvidgen")
class LatentPrior(keras.layers.Layer):
    """Maps standard normal noise to a full-covariance Gaussian: `z = mean + scale_tril @ eps`.

    Until `fit` is called the layer is the identity (mean 0, scale I), i.e.
    the N(0, I) prior a VAE is trained against. A VAE's samples decode prior
    latents, but its encoder's aggregate posterior is seldom N(0, I): some
    directions are wider, others correlated, and decoding latents from where
    no clip was encoded gives blurred mixtures. `fit` sets the mean and
    covariance to those of encoded training clips ("ex-post density
    estimation", Ghosh et al., 2020), so samples come from where the decoder
    was trained. The training objective (the ELBO) is unchanged: it keeps the
    N(0, I) prior.

    The mean and the Cholesky factor are non-trainable float32 weights, so
    they are saved with the model and exported with its `sample` signature.

    Args:
        latent_dim: size of the latent vector.

    Call arguments:
        noise: `(batch, latent_dim)` standard normal values.

    Output shape:
        `(batch, latent_dim)` float32.

    Example:

    >>> prior = LatentPrior(2)
    >>> covariance = prior.fit(np.random.default_rng(0).normal([3.0, -1.0], 0.5, size=(1000, 2)))
    >>> np.round(prior.mean.numpy(), 1)
    array([ 3., -1.], dtype=float32)

    Reference:
        Ghosh et al., "From Variational to Deterministic Autoencoders",
        ICLR 2020 (ex-post density estimation of the latent space).
    """

    def __init__(self, latent_dim, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.latent_dim = validation.positive_int("latent_dim", latent_dim)
        self.mean = self.add_weight(shape=(self.latent_dim,), initializer="zeros", trainable=False, name="mean")
        self.scale_tril = self.add_weight(
            shape=(self.latent_dim, self.latent_dim), initializer="identity", trainable=False, name="scale_tril"
        )
        self.fitted = self.add_weight(shape=(), initializer="zeros", trainable=False, name="fitted")
        self.built = True

    def call(self, noise):
        noise = ops.cast(noise, "float32")
        return self.mean + ops.matmul(noise, ops.transpose(self.scale_tril))

    def fit(self, latents):
        """Sets the mean and covariance to those of `latents`, `(count, latent_dim)` with count > latent_dim.

        Returns:
            The fitted covariance as a NumPy array.
        """
        latents = np.asarray(latents, dtype="float64")
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(f"`latents` must have shape (count, {self.latent_dim}). Received shape {latents.shape}")
        if latents.shape[0] <= self.latent_dim:
            raise ValueError(
                f"Fitting a {self.latent_dim}-dimensional covariance needs more than {self.latent_dim} latents "
                f"(encoded clips). Received {latents.shape[0]}"
            )
        if not np.all(np.isfinite(latents)):
            raise ValueError("`latents` must be finite; received NaN or Inf (a diverged encoder?)")
        covariance = np.cov(latents, rowvar=False) + COVARIANCE_JITTER * np.eye(self.latent_dim)
        self.mean.assign(latents.mean(axis=0).astype("float32"))
        self.scale_tril.assign(np.linalg.cholesky(covariance).astype("float32"))
        self.fitted.assign(1.0)
        return covariance

    def is_fitted(self):
        """Whether `fit` has set the prior (else it is N(0, I))."""
        return bool(np.asarray(ops.convert_to_numpy(self.fitted)) > 0)

    def load_own_variables(self, store):
        # A VAE saved before it had a LatentPrior stores none: it sampled from N(0, I), which the unfitted layer is.
        if len(store.keys()) == 0:
            return
        super().load_own_variables(store)

    def compute_output_shape(self, noise_shape):
        return noise_shape

    def get_config(self):
        config = super().get_config()
        config.update({"latent_dim": self.latent_dim})
        return config
