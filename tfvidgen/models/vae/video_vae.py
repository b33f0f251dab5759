"""Video VAE: the evidence lower bound optimised by a custom `train_step`."""

import math

import keras
import numpy as np
from keras import ops

from tfvidgen import distribute
from tfvidgen import losses
from tfvidgen import replica_random
from tfvidgen import schedules
from tfvidgen import validation
from tfvidgen.layers import LatentPrior
from tfvidgen.layers import Sampling
from tfvidgen.models import gradient_steps
from tfvidgen.models import signature_spec
from tfvidgen.models.generative_model import GenerativeModel
from tfvidgen.models.vae.video_decoder import VideoDecoder
from tfvidgen.models.vae.video_encoder import VideoEncoder
from tfvidgen.models.vae.video_vae_presets import VIDEO_VAE_PRESETS


@keras.saving.register_keras_serializable(package="tfvidgen")
class VideoVAE(GenerativeModel, keras.Model):
    """A variational autoencoder of clips (Kingma & Welling, 2014).

    `VideoEncoder` gives a diagonal Gaussian posterior, `tfvidgen.layers.Sampling`
    draws from it with the reparameterization trick, and `VideoDecoder` maps
    the latent back to a clip. `train_step` minimises the reconstruction loss
    plus `beta` times the KL divergence to N(0, I), both per clip (summed over
    pixels and frames, averaged over the batch), with `beta` constant or
    scheduled (KL annealing) and optional free bits. Metrics: `loss`,
    `reconstruction_loss`, `kl_loss`, `beta`, and the negative ELBO (`beta`
    = 1, no free bits) in nats per clip (`nelbo`) and in bits per dimension
    (`bits_per_dim`). The KL term is part of the training step on every
    backend (one `gradient_steps.Phase`, TensorFlow or JAX).

    Samples decode latents from `latent_prior` (`tfvidgen.layers.LatentPrior`):
    N(0, I) until `fit_latent_prior(clips)` fits a full-covariance Gaussian
    to the posterior means of training clips, which `tfvidgen train vae` does
    after training. On Moving MNIST the shipped `cpu_small` reference's samples
    are at Fréchet distance 199.9 from test clips with it, 348.4 from N(0, I)
    (docs/benchmarks.md).

    Args:
        encoder: a `VideoEncoder`; `None` builds the default one.
        decoder: a `VideoDecoder` of the same `clip_shape`, `latent_dim` and
            `time_halvings`; `None` builds the default one. (The networks'
            arguments given here instead, flat, still build them, with a
            `DeprecationWarning`: `clip_shape`, `latent_dim`, `time_halvings`,
            `synchronized_batch_norm`, and the encoder's and the decoder's
            `filters` as `encoder_filters` and `decoder_filters`
            (`decoder_upsampling`, `decoder_coordinates` likewise).
            `from_preset(name, **overrides)` and `--set` take those names.)
        reconstruction: `"bce"` (Bernoulli likelihood) or `"mse"` (Gaussian
            with unit variance).
        beta: KL weight, a float or a schedule over training steps
            (`tfvidgen.schedules`, e.g. `LinearSchedule(0, 1, 1000)` or
            `CyclicalSchedule`).
        free_bits: nats per latent dimension free of KL penalty (0: none).
        seed: seed of the sampling layer and of `sample()` without a seed.

    Call arguments:
        clips: `(batch, frames, height, width, channels)`; `call` returns the
            deterministic reconstruction (decoded posterior mean).

    Example:

    >>> vae = VideoVAE(
    ...     encoder=VideoEncoder((4, 16, 16, 1), latent_dim=8, filters=(8, 16)),
    ...     decoder=VideoDecoder((4, 16, 16, 1), latent_dim=8, filters=(16, 8)),
    ... )
    >>> vae = VideoVAE.from_preset("tiny", beta=0.5)  # A preset, one argument changed.
    >>> vae.compile()
    >>> vae.fit(clips_dataset, epochs=1)
    >>> vae.fit_latent_prior(training_clips, max_clips=1024)
    1024
    >>> tuple(vae.sample(4, seed=0).shape)
    (4, 4, 16, 16, 1)

    Reference:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
        Bowman et al., "Generating Sentences from a Continuous Space" (KL
        annealing), CoNLL 2016; Kingma et al., "Improved Variational Inference
        with Inverse Autoregressive Flow" (free bits), NeurIPS 2016.
        Ghosh et al., "From Variational to Deterministic Autoencoders" (a
        prior fitted ex post to the latents), ICLR 2020.
    """

    presets = VIDEO_VAE_PRESETS
    pretrained = {"moving_mnist": "vae_cpu_small"}  # saved_models/vae_cpu_small: from_preset("moving_mnist").
    family = "vae"
    default_signature = "reconstruct"
    checkpoint_monitor = "val_nelbo"

    network_classes = {"encoder": VideoEncoder, "decoder": VideoDecoder}
    # The flat names (presets, `from_preset` overrides, `--set`) of the networks' arguments that they share.
    flat_argument_names = {
        "encoder_filters": ("encoder", "filters"),
        "decoder_filters": ("decoder", "filters"),
        "decoder_upsampling": ("decoder", "upsampling"),
        "decoder_coordinates": ("decoder", "coordinates"),
    }

    def __init__(
        self,
        encoder=None,
        decoder=None,
        reconstruction="bce",
        beta=1.0,
        free_bits=0.0,
        seed=None,
        **kwargs,
    ):
        networks, kwargs = self.networks_from_arguments({"encoder": encoder, "decoder": decoder}, kwargs)
        super().__init__(**kwargs)
        self.encoder = networks["encoder"]
        self.decoder = networks["decoder"]
        # Posterior noise and prior samples get different streams from one seed.
        self.sampling = Sampling(seed=None if seed is None else seed + 1, name="sampling")
        self.latent_prior = LatentPrior(self.encoder.latent_dim, name="latent_prior")
        self.reconstruction = validation.one_of("reconstruction", reconstruction, losses.RECONSTRUCTION_LOSSES)
        self.beta = schedules.number_or_schedule("beta", beta, validation.non_negative_float)
        self.free_bits = validation.non_negative_float("free_bits", free_bits)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("loss", "reconstruction_loss", "kl_loss", "beta", "nelbo", "bits_per_dim")
        }
        self.num_dimensions = math.prod(self.clip_shape)
        self.built = True

    @property
    def clip_shape(self):
        return self.encoder.clip_shape

    @property
    def latent_dim(self):
        return self.encoder.latent_dim

    def compile(self, optimizer="auto", **kwargs):
        """Compiles with Adam(1e-3) by default; the loss is the ELBO's (no `loss=`)."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        super().compile(optimizer=optimizer, **kwargs)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, clips, training=False):
        z_mean, _ = self.encoder(clips, training=training)
        return self.decoder(z_mean, training=training)

    def input_shapes(self, x, y):
        """Batches of clips `(batch,) + clip_shape`, as `fit` takes them."""
        return [("the clips", x, (None,) + tuple(self.clip_shape))]

    # === Training ===

    def _terms(self, clips, training):
        z_mean, z_log_var = self.encoder(clips, training=training)
        reconstruction = self.decoder(self.sampling(z_mean, z_log_var), training=training)
        reconstruction_loss = ops.mean(losses.reconstruction_loss(clips, reconstruction, self.reconstruction))
        kl_loss = ops.mean(losses.kl_divergence(z_mean, z_log_var))
        kl_objective = ops.mean(losses.kl_divergence(z_mean, z_log_var, self.free_bits)) if self.free_bits else kl_loss
        beta = schedules.value_at(self.beta, self.optimizer.iterations)
        nll = reconstruction_loss
        if self.reconstruction == "mse":  # The Gaussian's normalising constant.
            nll = nll + 0.5 * self.num_dimensions * math.log(2.0 * math.pi)
        nelbo = nll + kl_loss
        return {
            "loss": reconstruction_loss + beta * kl_objective,
            "reconstruction_loss": reconstruction_loss,
            "kl_loss": kl_loss,
            "beta": beta,
            "nelbo": nelbo,
            "bits_per_dim": nelbo / (self.num_dimensions * math.log(2.0)),
        }

    def _update_trackers(self, terms):
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])
        return distribute.step_outputs({name: tracker.result() for name, tracker in self.trackers.items()})

    def _training_phases(self, data):
        clips, _, _ = keras.utils.unpack_x_y_sample_weight(data)

        def loss():
            terms = self._terms(clips, training=True)
            # Averaged over the local batch by hand: gradients are summed over replicas.
            return terms["loss"] / replica_random.num_replicas(), terms

        return [gradient_steps.Phase(self.optimizer, self.trainable_variables, loss)]

    def _record(self, terms):
        return self._update_trackers(terms[0])

    def _evaluation_logs(self, data):
        clips, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_trackers(self._terms(clips, training=False))

    # === Inference ===

    def _check_clips(self, clips, name="clips"):
        clips = validation.float32_tensor(clips)
        if len(clips.shape) != 5 or tuple(clips.shape[1:]) != self.clip_shape:
            raise ValueError(
                f"`{name}` must have shape (batch, {', '.join(map(str, self.clip_shape))}). "
                f"Received shape {tuple(clips.shape)}"
            )
        return clips

    def latent_decoder(self):
        return self.decoder

    def prior_latents(self, noise):
        """Standard normal noise through `latent_prior` (N(0, I) until `fit_latent_prior`)."""
        return self.latent_prior(noise)

    def fit_latent_prior(self, clips, max_clips=4096, batch_size=64):
        """Fits `latent_prior` to the posterior means of `clips`; `sample()` then draws from it.

        Use training clips (never the clips you evaluate on). The ELBO, and so
        `evaluate`'s `nelbo` and `bits_per_dim`, keep the N(0, I) prior.

        Args:
            clips: `(count,) + clip_shape` array, or batches of them (a
                `tf.data.Dataset`, a `keras.utils.PyDataset` or any iterable;
                `(clips, ...)` tuples take their first element); an endless
                stream is read up to `max_clips`.
            max_clips: clips to encode at most; more than `latent_dim` are
                needed.
            batch_size: clips encoded at once, for an array.

        Returns:
            The number of clips encoded.
        """
        max_clips = validation.positive_int("max_clips", max_clips)
        means, count = [], 0
        for batch in _batches_of(clips, validation.positive_int("batch_size", batch_size)):
            batch = self._check_clips(batch)[: max_clips - count]
            means.append(ops.convert_to_numpy(self.encoder(batch, training=False)[0]))
            count += len(means[-1])
            if count >= max_clips:
                break
        if not means:
            raise ValueError("`clips` gave no clip to fit the latent prior to")
        self.latent_prior.fit(np.concatenate(means))
        return count

    def _encode_endpoint(self, value, name):
        if tuple(value.shape) != self.clip_shape:
            raise ValueError(
                f"`{name}` must be an int seed, a latent vector of shape ({self.latent_dim},) or a clip of shape "
                f"{self.clip_shape}. Received shape {tuple(value.shape)}"
            )
        return self.encode(value[None])[0][0]

    def encode(self, clips):
        """Posterior `(z_mean, z_log_var)`, each `(batch, latent_dim)`."""
        return self.encode_step(self._check_clips(clips))

    def encode_step(self, clips):
        """Traceable `encode`: `(z_mean, z_log_var)` of unchecked clips."""
        return tuple(self.encoder(clips, training=False))

    def reconstruct(self, clips, deterministic=True):
        """Decodes the posterior mean (or, with `deterministic=False`, a posterior sample)."""
        z_mean, z_log_var = self.encode(clips)
        return self.decode(self.sampling(z_mean, z_log_var, deterministic=deterministic))

    # === Role hooks: the VAE's own ===

    def extra_signatures(self):
        """`reconstruct` (also `serving_default`): clips -> `{"reconstruction", "z_mean", "z_log_var"}` (the
        posterior mean decoded); `encode`: clips -> `{"z_mean", "z_log_var"}`."""
        clips_input = [signature_spec.TensorInput("clips", (None,) + tuple(self.clip_shape))]
        # One clip: warm-up requests stay small.
        example = {"clips": np.random.default_rng(0).random((1,) + tuple(self.clip_shape)).astype("float32")}

        def reconstruct(clips):
            z_mean, z_log_var = self.encode_step(clips)
            return {"reconstruction": self.decode_step(z_mean), "z_mean": z_mean, "z_log_var": z_log_var}

        def encode(clips):
            z_mean, z_log_var = self.encode_step(clips)
            return {"z_mean": z_mean, "z_log_var": z_log_var}

        return {
            "reconstruct": signature_spec.Signature(reconstruct, clips_input, example),
            "encode": signature_spec.Signature(encode, clips_input, example),
        }

    def previews(self, batch, seed=0):
        """The batch's clips, their reconstructions, and samples from fixed latents."""
        clips, _, _ = keras.utils.unpack_x_y_sample_weight(batch)
        return {
            "input": clips,
            "reconstruction": self.reconstruct(clips),
            "samples": self.sample(int(np.shape(clips)[0]), seed=seed),
        }

    def after_training(self, train, options, log=print):
        """Fits the sampling prior to up to `options["prior_clips"]` training clips (`tfvidgen train --prior-clips`).

        A source too small for the covariance keeps N(0, I), with a note: the trained model must still be saved.
        """
        max_clips = options.get("prior_clips")
        if not max_clips:
            return {"latent_prior": {"fitted": False, "reason": "--prior-clips 0"}}
        try:
            clips = self.fit_latent_prior(train, max_clips=max_clips)
        except ValueError as error:
            log(f"  (sampling prior kept at N(0, I): {error})")
            return {"latent_prior": {"fitted": False, "reason": str(error)}}
        log(f"  sampling prior fitted to the posterior means of {clips} training clips")
        return {"latent_prior": {"fitted": True, "clips": clips, "split": "train"}}

    def evaluation_extras(self, clips, batch_size):
        """Reconstruction PSNR/SSIM of the held-out `clips`, and their negative ELBO (nats per clip, bits/dim)."""
        from tfvidgen.metrics import generative

        results = generative.reconstruction_scores(self, clips, batch_size)
        if not self.compiled:  # A preset loads uncompiled; the ELBO needs only the defaults.
            self.compile()
        scores = self.evaluate(clips, batch_size=batch_size, return_dict=True, verbose=0)
        results["nelbo_nats_per_clip"] = float(scores["nelbo"])
        results["bits_per_dim"] = float(scores["bits_per_dim"])
        return results


def _batches_of(clips, batch_size):
    """Batches of clips from an array (sliced) or from batches (`(clips, ...)` tuples give their clips)."""
    if hasattr(clips, "shape") and hasattr(clips, "__getitem__") and not isinstance(clips, keras.utils.PyDataset):
        for start in range(0, int(clips.shape[0]), batch_size):
            yield clips[start : start + batch_size]
        return
    batches = (
        (clips[index] for index in range(clips.num_batches)) if isinstance(clips, keras.utils.PyDataset) else clips
    )
    for batch in batches:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch
