"""The generative role (DCGAN, VAE): latents from a prior, decoded to clips, one verb per action."""

import numbers

import keras
import numpy as np
from keras import ops

from tfvidgen import replica_random
from tfvidgen import validation
from tfvidgen.models import gradient_steps
from tfvidgen.models import model_role
from tfvidgen.models import signature_spec
from tfvidgen.models.video_model import VideoModel


class GenerativeModel(gradient_steps.PhasedSteps, model_role.ModelRole, VideoModel):
    """Mixin for models that decode `(batch, latent_dim)` N(0, I) latents into clips.

    The DCGAN and the VAE answer the same calls:
    - `sample(num_samples, seed=None)`: clips from prior latents, the same for
      the same int `seed` (per backend);
    - `sample_latents(num_samples, seed=None)` and `decode(latents)`;
    - `prior_latents(noise)`: standard normal noise to prior latents (the
      identity, except for a VAE with a fitted `LatentPrior`);
    - `interpolate_latents(start, end, steps=8)`: clips along a path in latent
      space (`interpolate` is its deprecated name).

    `sample` and `decode` check their arguments eagerly around the traceable
    `sample_step(num_samples, seed)` and `decode_step(latents)`, which the
    `sample` and `decode` serving signatures wrap.

    A family implements `latent_decoder()` (the network that decodes) and may
    implement `_encode_endpoint(clip)` (the VAE's posterior mean) and the role
    hooks of `tfvidgen.models.model_role` (`extra_signatures`, ...).
    """

    role = "generation"
    default_signature = "decode"
    latent_dim = None

    def latent_decoder(self):
        """The network that maps `(batch, latent_dim)` latents to clips (the GAN's generator, the VAE's decoder)."""
        raise NotImplementedError

    def _encode_endpoint(self, value, name):
        raise ValueError(
            f"`{name}` must be an int seed or a latent vector of shape ({self.latent_dim},). "
            f"Received shape {tuple(value.shape)}"
        )

    def decode(self, latents):
        """Clips `(batch, frames, height, width, channels)` in [0, 1] from `(batch, latent_dim)` latents."""
        latents = validation.float32_tensor(latents)
        if len(latents.shape) != 2 or latents.shape[-1] != self.latent_dim:
            raise ValueError(
                f"`latents` must have shape (batch, {self.latent_dim}). Received shape {tuple(latents.shape)}"
            )
        return self.decode_step(latents)

    def decode_step(self, latents):
        """Traceable `decode`: `(batch, latent_dim)` latents to clips, unchecked."""
        return self.latent_decoder()(latents, training=False)

    def sample_step(self, num_samples, seed):
        """Traceable `sample`: `num_samples` clips from the prior latents of an int `seed` (tensors allowed)."""
        return self.decode_step(self.prior_latents(replica_random.seeded_normal(num_samples, self.latent_dim, seed)))

    def prior_latents(self, noise):
        """Maps `(batch, latent_dim)` standard normal noise to latents of the prior samples come from.

        The identity here (an N(0, I) prior); the VAE passes it through its
        `LatentPrior`, which `fit_latent_prior` may have fitted.
        """
        return noise

    def sample_noise(self, num_samples, seed=None):
        """Standard normal `(num_samples, latent_dim)`; reproducible for an int `seed`, else from the seed generator."""
        num_samples = validation.positive_int("num_samples", num_samples, maximum=validation.MAX_SAMPLES)
        if seed is None:
            return replica_random.normal((num_samples, self.latent_dim), self.seed_generator)
        return replica_random.seeded_normal(num_samples, self.latent_dim, int(seed))

    def sample_latents(self, num_samples, seed=None):
        """Prior latents, `prior_latents(sample_noise(num_samples, seed))`: the same int `seed`, the same latents."""
        return self.prior_latents(self.sample_noise(num_samples, seed))

    def sample(self, num_samples, seed=None):
        """Decodes `num_samples` prior latents; the same int `seed` gives the same clips."""
        return self.decode(self.sample_latents(num_samples, seed))

    def interpolate(self, start, end, steps=8):
        """Deprecated: `interpolate_latents` (a path in latent space; `interpolate` is the interpolator's verb)."""
        model_role.deprecated("interpolate", "interpolate_latents", type(self).__name__)
        return self.interpolate_latents(start, end, steps)

    def interpolate_latents(self, start, end, steps=8):
        """Decodes `steps` latents on a path from `start` to `end`.

        Args:
            start, end: each an int seed (its prior latent, as `sample(1, seed)`
                uses), a latent vector `(latent_dim,)`, or for the VAE a clip
                `(frames, height, width, channels)` (its posterior mean).
            steps: number of clips, the two ends included.

        Returns:
            `(steps, frames, height, width, channels)`. Between two seeds the
            path is the great circle (slerp) between the seeds' noise, which
            keeps it at a typical norm, mapped by `prior_latents`; otherwise
            the straight line.
        """
        steps = validation.positive_int("steps", steps)
        if _is_seed(start) and _is_seed(end):
            noise = slerp(self.sample_noise(1, start)[0], self.sample_noise(1, end)[0], steps)
            return self.decode(self.prior_latents(noise))
        start_latent, end_latent = self._endpoint_latent(start, "start"), self._endpoint_latent(end, "end")
        fractions = ops.linspace(0.0, 1.0, steps)[:, None]
        return self.decode(start_latent + fractions * (end_latent - start_latent))

    def _endpoint_latent(self, value, name):
        if _is_seed(value):
            return self.sample_latents(1, value)[0]
        value = validation.float32_tensor(value)
        if tuple(value.shape) == (self.latent_dim,):
            return value
        return self._encode_endpoint(value, name)

    # === Role hooks: serving, previews, the CLI ===

    def sample_signature(self):
        """`sample`: `(num_samples, seed)` -> `{"clips"}`, the latents drawn in the graph from the seed.

        The noise passes through `prior_latents`, so a VAE's fitted prior serves as `sample()` uses it.
        """
        return signature_spec.Signature(
            lambda num_samples, seed: {"clips": self.sample_step(num_samples, seed)},
            [
                signature_spec.ScalarInput("num_samples", minimum=1, maximum=validation.MAX_SAMPLES),
                signature_spec.ScalarInput("seed"),
            ],
            {"num_samples": np.array(2, np.int32), "seed": np.array(0, np.int32)},
            uint8=True,
        )

    def decode_signature(self):
        """`decode`: `latents` `(batch, latent_dim)` -> `{"clips"}`."""
        example = np.random.default_rng(0).normal(size=(2, self.latent_dim)).astype("float32")
        return signature_spec.Signature(
            lambda latents: {"clips": self.decode_step(latents)},
            [signature_spec.TensorInput("latents", (None, self.latent_dim), dimensions=("batch", "latent_dim"))],
            {"latents": example},
        )

    def serving_signatures(self):
        """`sample` and `decode` (`serving_default`), then the family's `extra_signatures()`.

        A family without one of them (a sampler that decodes no latent in one pass) returns None from
        `decode_signature()` and names another `default_signature`.
        """
        signatures = {"sample": self.sample_signature(), "decode": self.decode_signature(), **self.extra_signatures()}
        return {name: signature for name, signature in signatures.items() if signature is not None}

    def previews(self, batch, seed=0):
        """Samples from fixed latents (as many as the batch has clips, at most 16)."""
        real, _, _ = keras.utils.unpack_x_y_sample_weight(batch)
        return {"samples": self.sample(min(16, int(np.shape(real)[0])), seed=seed)}

    def training_clip_shape(self, training):
        """Clips of the model's `clip_shape`."""
        return tuple(self.clip_shape)


def _is_seed(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def slerp(start, end, steps):
    """`steps` points on the great circle from `start` to `end` (1-D tensors)."""
    fractions = ops.linspace(0.0, 1.0, steps)[:, None]
    cosine = ops.sum(ops.normalize(start, axis=-1) * ops.normalize(end, axis=-1))
    angle = ops.arccos(ops.clip(cosine, -1.0, 1.0))
    sine = ops.sin(angle)
    if float(sine) < 1e-6:  # Parallel latents: plain linear interpolation.
        return start + fractions * (end - start)
    return (ops.sin((1.0 - fractions) * angle) * start + ops.sin(fractions * angle) * end) / sine
