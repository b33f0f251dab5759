"""Video DCGAN: adversarial training of a clip generator by a custom `train_step`."""

import keras
from keras import ops

from tfvidgen import distribute
from tfvidgen import losses
from tfvidgen import replica_random
from tfvidgen import schedules
from tfvidgen import validation
from tfvidgen.models import gradient_steps
from tfvidgen.models import model_role
from tfvidgen.models.dcgan.video_dcgan_presets import VIDEO_DCGAN_PRESETS
from tfvidgen.models.dcgan.video_discriminator import VideoDiscriminator
from tfvidgen.models.dcgan.video_generator import VideoGenerator
from tfvidgen.models.generative_model import GenerativeModel


def _adam():
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


def _loss_scaled(optimizer):
    """Wraps `optimizer` for loss scaling under the mixed_float16 policy."""
    policy = keras.config.dtype_policy().name
    if policy == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


@keras.saving.register_keras_serializable(package="tfvidgen")
class VideoDCGAN(GenerativeModel, keras.Model):
    """A video GAN: `VideoGenerator` against `VideoDiscriminator`, trained with `fit`.

    Each `train_step` updates the discriminator on a batch of real clips and
    as many generated ones, then the generator against the updated
    discriminator, with fresh latents for each. Losses are averaged over the
    local batch and divided by the replica count, and latents are drawn for
    the global batch and sliced per replica, so under a `tf.distribute`
    strategy a step equals the single-device step on the same global batch.
    The step is written once as two `gradient_steps.Phase`s and runs on
    TensorFlow and on JAX. `sample`, `decode` and `interpolate` are those of
    `GenerativeModel`; `generate` is `sample`'s GAN name.

    Args:
        generator: a `VideoGenerator`; `None` builds the default one.
        discriminator: a `VideoDiscriminator` of the same `clip_shape`;
            `None` builds the default one. (The networks' arguments given
            here instead, flat, still build them, with a `DeprecationWarning`:
            `clip_shape`, `latent_dim`, `two_stream`, `synchronized_batch_norm`,
            `spectral_norm`, `minibatch_stddev_group`, and the generator's and
            the discriminator's `filters` as `generator_filters` and
            `discriminator_filters` (`generator_upsampling`,
            `generator_motion_units`, `frame_discriminator_filters`,
            `brightness_discriminator_filters` likewise). `from_preset(name,
            **overrides)` and `--set` take those names.)
        flicker_penalty_weight: weight of `tfvidgen.losses.flicker_penalty`
            in the generator's loss: each generated clip's frame-to-frame
            change of mean brightness beyond the real batch's, relative to
            the real clips' brightness (0: off). A float, or a schedule over
            the generator's steps (`tfvidgen.schedules.LinearSchedule(0, 100,
            steps=100, delay=250)`: off while the generator first forms
            digits, then ramped in). Logged as `flicker_penalty` when on;
            `g_loss` stays the adversarial term alone.
        seed: seed of the latent draws during training and of `generate()`
            without a seed.

    Call arguments:
        latents: `(batch, latent_dim)`; `call` generates clips.

    Output shape:
        `(batch, frames, height, width, channels)` float32 in [0, 1].

    Example:

    >>> gan = VideoDCGAN(
    ...     generator=VideoGenerator((4, 16, 16, 1), latent_dim=16, filters=(32, 16)),
    ...     discriminator=VideoDiscriminator((4, 16, 16, 1), filters=(16, 32)),
    ... )
    >>> gan = VideoDCGAN.from_preset("tiny", discriminator_filters=(8, 16))  # A preset, one argument changed.
    >>> gan.compile()
    >>> gan.fit(clips_dataset, epochs=1)  # batches of (batch, 4, 16, 16, 1)
    >>> tuple(gan.sample(8, seed=1).shape)
    (8, 4, 16, 16, 1)

    Reference:
        Radford, Metz & Chintala, "Unsupervised Representation Learning with
        Deep Convolutional GANs", ICLR 2016. Vondrick et al., "Generating Videos
        with Scene Dynamics", NeurIPS 2016.
    """

    presets = VIDEO_DCGAN_PRESETS
    pretrained = {"moving_mnist": "dcgan_cpu_small"}  # saved_models/dcgan_cpu_small: from_preset("moving_mnist").
    family = "dcgan"
    checkpoint_monitor = None  # GAN losses do not rank models.
    default_learning_rate = 2e-4
    VALIDATION_SEED = 1_000_003  # Seed of the fixed latents `test_step` scores.

    network_classes = {"generator": VideoGenerator, "discriminator": VideoDiscriminator}
    # The flat names (presets, `from_preset` overrides, `--set`) of the networks' arguments that they share.
    flat_argument_names = {
        "generator_filters": ("generator", "filters"),
        "generator_upsampling": ("generator", "upsampling"),
        "generator_motion_units": ("generator", "motion_units"),
        "discriminator_filters": ("discriminator", "filters"),
        "frame_discriminator_filters": ("discriminator", "frame_filters"),
        "brightness_discriminator_filters": ("discriminator", "brightness_filters"),
    }

    def __init__(self, generator=None, discriminator=None, flicker_penalty_weight=0.0, seed=None, **kwargs):
        networks, kwargs = self.networks_from_arguments(
            {"generator": generator, "discriminator": discriminator}, kwargs
        )
        super().__init__(**kwargs)
        self.generator = networks["generator"]
        self.discriminator = networks["discriminator"]
        self.flicker_penalty_weight = schedules.number_or_schedule(
            "flicker_penalty_weight", flicker_penalty_weight, validation.non_negative_float
        )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_score_tracker = keras.metrics.Mean(name="real_score")
        self.fake_score_tracker = keras.metrics.Mean(name="fake_score")
        self.flicker_penalty_tracker = keras.metrics.Mean(name="flicker_penalty")
        # Both networks are built: `fit` must not build this model by calling it
        # on a batch of clips (it takes latents).
        self.built = True

    @property
    def clip_shape(self):
        return self.generator.clip_shape

    @property
    def latent_dim(self):
        return self.generator.latent_dim

    def call(self, latents, training=False):
        return self.generator(latents, training=training)

    def compile(self, d_optimizer="auto", g_optimizer="auto", loss="non_saturating", **kwargs):
        """Sets the two optimizers and the adversarial loss.

        Args:
            d_optimizer: discriminator optimizer; `"auto"` is Adam(2e-4, beta_1=0.5).
            g_optimizer: generator optimizer; `"auto"` likewise.
            loss: `"non_saturating"` or `"hinge"` (see `tfvidgen.losses`).
            **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`).

        Both optimizers are built here (their slot variables created) so that
        `fit` works under `tf.distribute` strategies, and wrapped in a
        `LossScaleOptimizer` under the `mixed_float16` policy. On JAX,
        `model.optimizer` is a `gradient_steps.OptimizerGroup` of the two, so
        that Keras' JAX trainer carries both optimizers' state.
        """
        self.d_optimizer = _loss_scaled(_adam() if d_optimizer == "auto" else keras.optimizers.get(d_optimizer))
        self.g_optimizer = _loss_scaled(_adam() if g_optimizer == "auto" else keras.optimizers.get(g_optimizer))
        self.loss_kind = validation.one_of("loss", loss, losses.ADVERSARIAL_LOSSES)
        for optimizer, variables in self._optimizers_and_variables():
            optimizer.build(variables)
        super().compile(optimizer=None, loss=None, **kwargs)
        if keras.backend.backend() == "jax":
            self.optimizer = gradient_steps.OptimizerGroup([self.d_optimizer, self.g_optimizer])

    def get_compile_config(self):
        if not self.compiled:
            return None  # Saved uncompiled; loads uncompiled.
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "loss": self.loss_kind,
        }

    def _optimizers_and_variables(self):
        return [
            (self.d_optimizer, self.discriminator.trainable_variables),
            (self.g_optimizer, self.generator.trainable_variables),
        ]

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker, self.real_score_tracker, self.fake_score_tracker]
        return trackers + ([self.flicker_penalty_tracker] if self.flicker_penalty_weight else [])

    def input_shapes(self, x, y):
        """Batches of clips `(batch,) + clip_shape`, as `fit` takes them."""
        return [("the clips", x, (None,) + tuple(self.clip_shape))]

    # === Training ===

    def _latents(self, batch_size):
        return replica_random.normal((batch_size, self.latent_dim), self.seed_generator)

    def _scores(self, real, latents, training):
        fake = self.generator(latents, training=training)
        real_logits = self.discriminator(real, training=training)
        fake_logits = self.discriminator(fake, training=training)
        return fake, real_logits, fake_logits

    def _update_trackers(self, d_loss, g_loss, real_logits, fake_logits, flicker_penalty):
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.real_score_tracker.update_state(ops.mean(real_logits))
        self.fake_score_tracker.update_state(ops.mean(fake_logits))
        self.flicker_penalty_tracker.update_state(flicker_penalty)
        return distribute.step_outputs({metric.name: metric.result() for metric in self.metrics})

    def _training_phases(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        batch_size = ops.shape(real)[0]

        # Each loss is averaged over the local batch by hand: divided by the
        # replica count, because gradients are summed across replicas.
        def discriminator_loss():
            _, real_logits, fake_logits = self._scores(real, self._latents(batch_size), training=True)
            d_loss = ops.mean(losses.discriminator_loss(real_logits, fake_logits, self.loss_kind))
            return d_loss / replica_random.num_replicas(), (d_loss, real_logits, fake_logits)

        def generator_loss():
            generated = self.generator(self._latents(batch_size), training=True)
            g_loss = ops.mean(losses.generator_loss(self.discriminator(generated, training=True), self.loss_kind))
            penalty = self._flicker_penalty(generated, real)
            total = g_loss + schedules.value_at(self.flicker_penalty_weight, self.g_optimizer.iterations) * penalty
            return total / replica_random.num_replicas(), (g_loss, penalty)

        return [
            gradient_steps.Phase(self.d_optimizer, self.discriminator.trainable_variables, discriminator_loss),
            gradient_steps.Phase(self.g_optimizer, self.generator.trainable_variables, generator_loss),
        ]

    def _flicker_penalty(self, generated, real):
        if not self.flicker_penalty_weight:
            return ops.zeros((), "float32")  # Not traced into the step when off.
        return ops.mean(losses.flicker_penalty(generated, real))

    def _record(self, terms):
        (d_loss, real_logits, fake_logits), (g_loss, penalty) = terms
        return self._update_trackers(d_loss, g_loss, real_logits, fake_logits, penalty)

    def _evaluation_logs(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        # Fixed latents: validation neither advances the training noise stream nor
        # varies from epoch to epoch. (Each replica uses the same ones.)
        latents = replica_random.seeded_normal(ops.shape(real)[0], self.latent_dim, seed=self.VALIDATION_SEED)
        fake, real_logits, fake_logits = self._scores(real, latents, training=False)
        d_loss = ops.mean(losses.discriminator_loss(real_logits, fake_logits, self.loss_kind))
        g_loss = ops.mean(losses.generator_loss(fake_logits, self.loss_kind))
        penalty = self._flicker_penalty(fake, real)
        return self._update_trackers(d_loss, g_loss, real_logits, fake_logits, penalty)

    # === Generation ===

    def latent_decoder(self):
        return self.generator

    def generate(self, num_samples, seed=None):
        """Deprecated: `sample` (`num_samples` clips; the same int `seed` gives the same clips)."""
        model_role.deprecated("generate", "sample", type(self).__name__)
        return self.sample(num_samples, seed)

    def generate_from_latents(self, latents):
        """Deprecated: `decode` (clips from `(batch, latent_dim)` latents)."""
        model_role.deprecated("generate_from_latents", "decode", type(self).__name__)
        return self.decode(latents)

    # === Role hooks: the GAN's own ===

    def extra_signatures(self):
        # The `decode` signature's name before the verbs were unified, served one more release.
        return {"generate": self.decode_signature()}

    @classmethod
    def cli_training_settings(cls, learning_rate, training, loss=None):
        """The generator's learning rate: the preset's multiple of the discriminator's (`--learning-rate`)."""
        return {"generator_learning_rate": learning_rate * training.get("generator_learning_rate_multiplier", 1.0)}

    def compile_for_training(self, make_optimizer, learning_rate, generator_learning_rate=None):
        """Adam (beta_1 0.5) for the discriminator at `learning_rate` and the generator at its own rate."""
        self.compile(
            d_optimizer=make_optimizer(learning_rate, beta_1=0.5),
            g_optimizer=make_optimizer(generator_learning_rate or learning_rate, beta_1=0.5),
        )
