"""Video diffusion: a space-time U-Net denoiser trained in continuous time, sampled by an in-graph DDIM loop."""

import numbers

import keras
import numpy as np
from keras import ops

from tfvidgen import distribute
from tfvidgen import replica_random
from tfvidgen import validation
from tfvidgen.losses import diffusion as diffusion_losses
from tfvidgen.models import gradient_steps
from tfvidgen.models import signature_spec
from tfvidgen.models.diffusion.frame_autoencoder import FrameAutoencoder
from tfvidgen.models.diffusion.video_diffusion_backbone import VideoDiffusionBackbone
from tfvidgen.models.diffusion.video_diffusion_presets import VIDEO_DIFFUSION_PRESETS
from tfvidgen.models.generative_model import GenerativeModel

MAX_SAMPLING_STEPS = 100_000
MAX_GUIDANCE = 100.0


@keras.saving.register_keras_serializable(package="tfvidgen")
class VideoDiffusion(GenerativeModel, keras.Model):
    """A video diffusion model: unconditional, class-conditional, and a stochastic frame predictor in one network.

    Training (`fit`, one `gradient_steps.Phase`): each clip is encoded frame by
    frame by the `autoencoder` (when there is one; its reconstruction loss on
    `autoencoder_frames` random frames per clip trains it in the same step,
    and the diffusion sees its latents, gradient stopped, divided by their
    running RMS), noised to a random time `t` in [0, 1] and denoised by the
    `backbone`, whose regression target `objective` names
    (`tfvidgen.losses.diffusion`). With probability `context_probability` the
    first 1 to `max_context_frames` frames are given clean, as context (the
    loss skips them): the same network then continues clips. Labels (the
    digits of a Moving MNIST clip, one picked at random per clip) are dropped
    with probability `label_dropout`, for classifier-free guidance. An
    exponential moving average of the backbone's weights (`ema_backbone`,
    saved with the model) is what samples and `evaluate` use.

    Inference, seeded and reproducible per backend, with the number of
    sampler steps an input of one compiled loop (DDIM, which is Euler's method
    for `objective="flow"`):
    - `sample(num_samples, seed, steps, labels, guidance)`;
    - `decode(noise, ...)`: the deterministic map from `(batch, latent_dim)`
      noise to clips, so `interpolate_latents` between two seeds walks
      between their samples;
    - `predict_future(context, horizon, seed, num_samples, steps)`: several
      plausible futures, `frames - max_context_frames` new frames per block.

    Args:
        backbone: a `VideoDiffusionBackbone` (or its config) over the latent
            clip shape (the clip shape without an autoencoder).
        autoencoder: a `FrameAutoencoder` (or its config), or None for pixel
            space.
        clip_shape: `(frames, height, width, channels)` of the clips.
        objective: `"v"` (cosine schedule, velocity target) or `"flow"`
            (rectified flow).
        label_dropout: probability of training a clip without its label.
        context_probability: probability of training a clip with context.
        max_context_frames: most context frames in training and per
            prediction block (default half the frames).
        ema_momentum: the weight average's momentum (warmed up as
            `min(momentum, (1 + n) / (10 + n))` at step n).
        autoencoder_frames: frames per clip the autoencoder trains on each
            step.
        sampling_steps: sampler steps when a call names none.
        seed: seed of the training noise and of seedless samples.

    Example:

    >>> model = VideoDiffusion.from_preset("tiny")
    >>> model.compile()
    >>> model.fit(clips_and_labels_dataset, epochs=1)
    >>> model.sample(2, seed=0, steps=10, labels=[3, 7], guidance=2.0).shape
    (2, 4, 16, 16, 1)

    Reference:
        Ho et al., "Video Diffusion Models", NeurIPS 2022. Song et al.,
        "Denoising Diffusion Implicit Models", ICLR 2021. Salimans & Ho,
        "Progressive Distillation for Fast Sampling of Diffusion Models", ICLR
        2022 (v-prediction). Ho & Salimans, "Classifier-Free Diffusion
        Guidance", 2022. Voleti et al., "MCVD", NeurIPS 2022. Rombach et al.,
        "High-Resolution Image Synthesis with Latent Diffusion Models", CVPR
        2022.
    """

    presets = VIDEO_DIFFUSION_PRESETS
    pretrained = {"moving_mnist": "diffusion_cpu_small"}  # saved_models/diffusion_cpu_small
    family = "diffusion"
    network_classes = {"backbone": VideoDiffusionBackbone, "autoencoder": FrameAutoencoder}
    # Flat keys (presets, `from_preset` overrides, `--set`) where the task and a network share a name.
    flat_argument_names = {
        "backbone_clip_shape": ("backbone", "clip_shape"),
        "autoencoder_filters": ("autoencoder", "filters"),
        "autoencoder_groups": ("autoencoder", "groups"),
    }
    # No autoencoder: pixel space; no backbone: the default U-Net over the latent clip shape.
    optional_networks = ("backbone", "autoencoder")
    checkpoint_monitor = "val_loss"
    default_learning_rate = 1e-3

    def __init__(
        self,
        backbone=None,
        autoencoder=None,
        clip_shape=(16, 64, 64, 1),
        objective="v",
        label_dropout=0.1,
        context_probability=0.5,
        max_context_frames=None,
        ema_momentum=0.999,
        autoencoder_frames=4,
        sampling_steps=50,
        seed=None,
        **kwargs,
    ):
        networks, kwargs = self.networks_from_arguments({"backbone": backbone, "autoencoder": autoencoder}, kwargs)
        super().__init__(**kwargs)
        clip_shape = tuple(int(size) for size in clip_shape)
        validation.frame_shape("clip_shape[1:]", clip_shape[1:])
        frames = validation.positive_int("clip_shape[0]", clip_shape[0])
        self.autoencoder = networks["autoencoder"]
        if self.autoencoder is not None and tuple(self.autoencoder.frame_shape) != clip_shape[1:]:
            raise ValueError(
                f"The autoencoder's frame_shape {tuple(self.autoencoder.frame_shape)} must be clip_shape[1:] = "
                f"{clip_shape[1:]}."
            )
        latent_clip_shape = (frames,) + (
            tuple(self.autoencoder.latent_shape) if self.autoencoder is not None else clip_shape[1:]
        )
        self.backbone = networks["backbone"] or VideoDiffusionBackbone(latent_clip_shape, name="backbone")
        if tuple(self.backbone.clip_shape) != latent_clip_shape:
            raise ValueError(
                f"`backbone.clip_shape` must be {latent_clip_shape} (the clip as the diffusion sees it: frames "
                f"and {'the autoencoder latent' if self.autoencoder is not None else 'frame'} shape). Received: "
                f"{tuple(self.backbone.clip_shape)}"
            )
        self.ema_backbone = VideoDiffusionBackbone.from_config({**self.backbone.get_config(), "name": "ema_backbone"})
        self.ema_backbone.trainable = False
        self.ema_backbone.set_weights(self.backbone.get_weights())
        self.clip_shape = clip_shape
        self.latent_clip_shape = latent_clip_shape
        self.latent_dim = int(np.prod(latent_clip_shape))
        self.num_classes = self.backbone.num_classes
        self.objective = validation.one_of("objective", objective, diffusion_losses.OBJECTIVES)
        self.label_dropout = validation.probability("label_dropout", label_dropout)
        self.context_probability = validation.probability("context_probability", context_probability)
        if max_context_frames is None:
            max_context_frames = frames // 2
        self.max_context_frames = validation.positive_int("max_context_frames", max_context_frames, maximum=frames - 1)
        self.ema_momentum = validation.probability("ema_momentum", ema_momentum)
        self.autoencoder_frames = validation.positive_int("autoencoder_frames", autoencoder_frames, maximum=frames)
        self.sampling_steps = validation.positive_int("sampling_steps", sampling_steps, maximum=MAX_SAMPLING_STEPS)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.latent_scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="latent_scale")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "diffusion_loss", "autoencoder_loss")}
        self._compiled = {}
        self.built = True

    def compile(self, optimizer="auto", **kwargs):
        """Compiles with Adam(1e-3) by default; the loss is the diffusion objective (no `loss=`)."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate=self.default_learning_rate)
        super().compile(optimizer=optimizer, **kwargs)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, clips, training=False):
        """The clips as the diffusion sees them, decoded: the autoencoder's reconstruction (pixel space: the clips)."""
        if self.autoencoder is None:
            return clips
        return self.autoencoder(clips, training=training)

    def input_shapes(self, x, y):
        """Batches of clips `(batch,) + clip_shape`, optionally with int labels `(batch,)` or `(batch, digits)`."""
        return [("the clips", x, (None,) + self.clip_shape)]

    # === Training ===

    def _to_latents(self, clips, training):
        """Clips in [0, 1] -> what the diffusion denoises: scaled autoencoder latents, or pixels in [-1, 1]."""
        if self.autoencoder is None:
            return clips * 2.0 - 1.0
        latents = ops.stop_gradient(self.autoencoder.encoder(clips, training=False))
        if training:
            rms = ops.sqrt(ops.mean(ops.square(ops.cast(latents, "float32"))) + 1e-12)
            self.latent_scale.assign(0.99 * self.latent_scale + 0.01 * rms)
        return ops.cast(latents, "float32") / self.latent_scale

    def _from_latents(self, latents):
        if self.autoencoder is None:
            return ops.clip((latents + 1.0) * 0.5, 0.0, 1.0)
        return self.autoencoder.decoder(latents * self.latent_scale, training=False)

    def _training_mask(self, batch):
        """`(batch, frames)`: 1 on the first 1..max_context_frames frames of the clips drawn to have context."""
        has_context = replica_random.uniform((batch,), self.seed_generator) < self.context_probability
        count = 1.0 + ops.floor(replica_random.uniform((batch,), self.seed_generator) * self.max_context_frames)
        frames = ops.arange(self.clip_shape[0], dtype="float32")[None, :]
        return ops.cast(ops.logical_and(has_context[:, None], frames < count[:, None]), "float32")

    def _training_labels(self, labels, batch):
        """One label per clip (a random one of its digits), replaced by the null class with `label_dropout`."""
        null = ops.full((batch,), self.num_classes, dtype="int32")
        if labels is None or not self.num_classes:
            return null
        labels = ops.cast(labels, "int32")
        if len(labels.shape) == 2:
            pick = ops.floor(replica_random.uniform((batch,), self.seed_generator) * labels.shape[1])
            labels = ops.take_along_axis(labels, ops.cast(pick, "int32")[:, None], axis=1)[:, 0]
        dropped = replica_random.uniform((batch,), self.seed_generator) < self.label_dropout
        return ops.where(dropped, null, labels)

    def _terms(self, clips, labels, training):
        batch = ops.shape(clips)[0]
        autoencoder_loss = ops.zeros(())
        if self.autoencoder is not None:
            draws = replica_random.uniform((self.autoencoder_frames,), self.seed_generator)
            frames = ops.take(clips, ops.cast(ops.floor(draws * self.clip_shape[0]), "int32"), axis=1)
            reconstruction = self.autoencoder(frames, training=training)
            autoencoder_loss = ops.mean(keras.losses.binary_crossentropy(frames, reconstruction))
        x0 = self._to_latents(clips, training)
        # Stratified times (Kingma et al., "Variational Diffusion Models", 2021): one uniform offset, the batch
        # spread evenly over [0, 1). The same marginal, a far steadier loss from step to step.
        offset = replica_random.uniform((1,), self.seed_generator)
        t = (offset + ops.arange(batch, dtype="float32") / ops.cast(batch, "float32")) % 1.0
        noise = replica_random.normal((batch,) + self.latent_clip_shape, self.seed_generator)
        mask = self._training_mask(batch)
        noisy, target = diffusion_losses.noisy_and_target(x0, noise, ops.reshape(t, (-1, 1, 1, 1, 1)), self.objective)
        frame_mask = ops.reshape(mask, (-1, self.clip_shape[0], 1, 1, 1))
        network = self.backbone if training else self.ema_backbone
        prediction = network(
            {
                "noisy": noisy * (1.0 - frame_mask) + x0 * frame_mask,
                "noise_level": t,
                "context": x0 * frame_mask,
                "mask": mask,
                "labels": self._training_labels(labels, batch),
            },
            training=training,
        )
        diffusion_loss = diffusion_losses.masked_mean_squared_error(target, prediction, 1.0 - mask)
        return {
            "loss": diffusion_loss + autoencoder_loss,
            "diffusion_loss": diffusion_loss,
            "autoencoder_loss": autoencoder_loss,
        }

    def _training_phases(self, data):
        clips, labels, _ = keras.utils.unpack_x_y_sample_weight(data)

        def loss():
            terms = self._terms(clips, labels, training=True)
            return terms["loss"] / replica_random.num_replicas(), terms

        return [gradient_steps.Phase(self.optimizer, self.trainable_variables, loss)]

    def _record(self, terms):
        self._update_ema()
        return self._update_trackers(terms[0])

    def _update_ema(self):
        steps = ops.cast(self.optimizer.iterations, "float32")
        decay = ops.minimum(self.ema_momentum, (1.0 + steps) / (10.0 + steps))
        for average, weight in zip(self.ema_backbone.weights, self.backbone.weights):
            average.assign(decay * average + (1.0 - decay) * ops.cast(weight, average.dtype))

    def _update_trackers(self, terms):
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])
        return distribute.step_outputs({name: tracker.result() for name, tracker in self.trackers.items()})

    def _evaluation_logs(self, data):
        clips, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_trackers(self._terms(clips, labels, training=False))

    # === Sampling ===

    def denoise(self, noisy, steps, labels, guidance, context, mask):
        """The sampler, traceable: `steps` DDIM steps from `noisy` at t = 1 to latents at t = 0.

        Args:
            noisy: `(batch,) + latent_clip_shape` float32 noise.
            steps: int scalar (a tensor is fine): the number of steps.
            labels: int32 `(batch,)`, `num_classes` for none.
            guidance: float32 scalar, the classifier-free guidance scale (1: none).
            context: `(batch,) + latent_clip_shape` latents of the given frames.
            mask: `(batch, frames)` float32, 1 on the given frames (which come
                back as `context`).

        Returns:
            `(batch,) + latent_clip_shape` latents.
        """
        steps_float = ops.cast(steps, "float32")
        frame_mask = ops.reshape(mask, (-1, self.clip_shape[0], 1, 1, 1))
        null = ops.full(ops.shape(labels), self.num_classes, dtype="int32")
        conditional = ops.logical_and(ops.any(ops.not_equal(labels, null)), ops.not_equal(guidance, 1.0))

        def predict(x, t):
            inputs = {"noisy": x, "noise_level": t, "context": context * frame_mask, "mask": mask, "labels": labels}
            return self.ema_backbone(inputs, training=False)

        def guided_prediction(x, t):
            doubled = {
                "noisy": ops.concatenate([x, x]),
                "noise_level": ops.concatenate([t, t]),
                "context": ops.concatenate([context * frame_mask] * 2),
                "mask": ops.concatenate([mask, mask]),
                "labels": ops.concatenate([labels, null]),
            }
            with_label, without = ops.split(self.ema_backbone(doubled, training=False), 2)
            return diffusion_losses.guided(with_label, without, guidance)

        def step(index, x):
            time = 1.0 - ops.cast(index, "float32") / steps_float
            time_next = 1.0 - ops.cast(index + 1, "float32") / steps_float
            x = x * (1.0 - frame_mask) + context * frame_mask
            t = ops.full(ops.shape(labels), time, dtype="float32")
            if self.num_classes:
                prediction = ops.cond(conditional, lambda: guided_prediction(x, t), lambda: predict(x, t))
            else:
                prediction = predict(x, t)
            return diffusion_losses.deterministic_step(x, prediction, time, time_next, self.objective)

        latents = ops.fori_loop(0, steps, step, noisy)
        return latents * (1.0 - frame_mask) + context * frame_mask

    def generate_clips(self, noise, steps, labels, guidance, context_clips, mask):
        """Traceable pixels-in, pixels-out sampler: `(batch, latent_dim)` noise and pixel context -> clips in [0, 1].

        The frames `mask` marks come back as `context_clips` gave them, to the bit.
        """
        noisy = ops.reshape(ops.cast(noise, "float32"), (-1,) + self.latent_clip_shape)
        context = self._to_latents(context_clips, training=False)
        clips = self._from_latents(self.denoise(noisy, steps, labels, guidance, context, mask))
        frame_mask = ops.reshape(mask, (-1, self.clip_shape[0], 1, 1, 1))
        return clips * (1.0 - frame_mask) + context_clips * frame_mask

    def _compiled_generate(self):
        """`generate_clips`, compiled once per backend (one graph for any number of steps)."""
        if "generate" in self._compiled:
            return self._compiled["generate"]
        backend = keras.backend.backend()
        function = self.generate_clips
        if backend == "tensorflow":
            import tensorflow as tf

            function = tf.function(
                self.generate_clips,
                input_signature=[
                    tf.TensorSpec((None, self.latent_dim), tf.float32),
                    tf.TensorSpec((), tf.int32),
                    tf.TensorSpec((None,), tf.int32),
                    tf.TensorSpec((), tf.float32),
                    tf.TensorSpec((None,) + self.clip_shape, tf.float32),
                    tf.TensorSpec((None, self.clip_shape[0]), tf.float32),
                ],
                reduce_retracing=True,
            )
        elif backend == "jax":
            import jax

            variables = self.variables

            def stateless(values, *args):
                with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                    return self.generate_clips(*args)

            jitted = jax.jit(stateless)

            def function(*args):
                return jitted([variable.value for variable in variables], *args)

        self._compiled["generate"] = function
        return function

    def _checked_sampling(self, num_samples, steps, labels, guidance):
        steps = self.sampling_steps if steps is None else steps
        steps = validation.positive_int("steps", steps, maximum=MAX_SAMPLING_STEPS)
        if isinstance(guidance, bool) or not isinstance(guidance, numbers.Real) or not 0.0 <= guidance <= MAX_GUIDANCE:
            raise ValueError(f"`guidance` must be a number in [0, {MAX_GUIDANCE:g}]. Received: guidance={guidance!r}")
        return steps, self._checked_labels(labels, num_samples), float(guidance)

    def _checked_labels(self, labels, num_samples):
        """`labels` as int32 `(num_samples,)`: None -> no label; an int -> for every sample; a list, one per sample."""
        if labels is None:
            return np.full((num_samples,), self.num_classes, np.int32)
        if not self.num_classes:
            raise ValueError("`labels` needs a class-conditional model (its backbone has num_classes=0).")
        values = np.asarray(labels)
        if values.ndim == 0:
            values = np.full((num_samples,), values)
        if values.ndim != 1 or len(values) != num_samples or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(
                f"`labels` must be an int or {num_samples} ints (one per sample). Received: labels={labels!r}"
            )
        if values.min() < 0 or values.max() >= self.num_classes:
            raise ValueError(
                f"`labels` must be class indices in [0, {self.num_classes - 1}]. Received: labels={labels!r}"
            )
        return values.astype(np.int32)

    def sample(self, num_samples, seed=None, steps=None, labels=None, guidance=1.0):
        """Clips from noise; the same int `seed` (and arguments) gives the same clips per backend.

        Args:
            num_samples: clips to draw, 1..100,000.
            seed: an int, or None for the model's seed generator.
            steps: sampler steps, 1..100,000 (default `sampling_steps`).
            labels: None (unconditional), a class index for every sample, or
                one per sample.
            guidance: classifier-free guidance scale in [0, 100]; 1 is the
                conditional model alone, larger follows the labels harder.

        Returns:
            `(num_samples,) + clip_shape` float32 in [0, 1].
        """
        noise = self.sample_noise(num_samples, seed)
        return self.decode(noise, steps=steps, labels=labels, guidance=guidance)

    def decode(self, latents, steps=None, labels=None, guidance=1.0):
        """Clips from `(batch, latent_dim)` standard normal noise by the deterministic sampler."""
        latents = validation.float32_tensor(latents)
        if len(latents.shape) != 2 or latents.shape[-1] != self.latent_dim:
            raise ValueError(
                f"`latents` must have shape (batch, {self.latent_dim}). Received shape {tuple(latents.shape)}"
            )
        batch = int(latents.shape[0])
        steps, labels, guidance = self._checked_sampling(batch, steps, labels, guidance)
        context = np.zeros((batch,) + self.clip_shape, np.float32)
        mask = np.zeros((batch, self.clip_shape[0]), np.float32)
        return self._compiled_generate()(latents, np.int32(steps), labels, np.float32(guidance), context, mask)

    def latent_decoder(self):
        return lambda latents, training=False: self.decode(latents)

    def complete(self, clips, known_frames, seed=None, steps=None, labels=None, guidance=1.0):
        """Keeps the first `known_frames` frames of each clip and samples the rest (masked conditioning).

        Args:
            clips: `(batch,) + clip_shape` in [0, 1]; frames after the known
                ones are ignored (zeros will do).
            known_frames: frames given, 0..frames - 1 (0: unconditional).
            seed, steps, labels, guidance: as `sample`.

        Returns:
            `(batch,) + clip_shape`: the known frames exactly as given, then
            sampled ones.
        """
        clips = validation.float32_tensor(clips)
        if len(clips.shape) != 5 or tuple(clips.shape[1:]) != self.clip_shape:
            raise ValueError(
                f"`clips` must have shape (batch, {', '.join(map(str, self.clip_shape))}). "
                f"Received shape {tuple(clips.shape)}"
            )
        frames = self.clip_shape[0]
        known_frames = validation.non_negative_int("known_frames", known_frames, maximum=frames - 1)
        batch = int(clips.shape[0])
        steps, labels, guidance = self._checked_sampling(batch, steps, labels, guidance)
        mask = np.zeros((batch, frames), np.float32)
        mask[:, :known_frames] = 1.0
        noise = self.sample_noise(batch, seed)
        return self._compiled_generate()(noise, np.int32(steps), labels, np.float32(guidance), clips, mask)

    def predict_future(self, context, horizon, seed=None, num_samples=None, steps=None):
        """Plausible continuations of `context`, block by block.

        Each block keeps the last `max_context_frames` known frames (all of
        them at the start if the context is shorter) and samples the rest of a
        `frames`-long window; the known frames stay as given.

        Args:
            context: `(batch, frames >= 1, height, width, channels)` in [0, 1].
            horizon: future frames, 0..100,000.
            seed: int seed (the same seed, the same futures), or None.
            num_samples: None for one future per clip `(batch, horizon, ...)`;
                an int for `(batch, num_samples, horizon, ...)`.
            steps: sampler steps per block.

        Returns:
            float32 futures in [0, 1].
        """
        context = validation.float32_tensor(context)
        frame_shape = self.clip_shape[1:]
        if len(context.shape) != 5 or tuple(context.shape[2:]) != frame_shape or context.shape[1] == 0:
            raise ValueError(
                f"`context` must have shape (batch, frames >= 1, {', '.join(map(str, frame_shape))}). "
                f"Received shape {tuple(context.shape)}"
            )
        horizon = validation.non_negative_int("horizon", horizon, maximum=validation.MAX_FRAMES)
        count = (
            1
            if num_samples is None
            else validation.positive_int("num_samples", num_samples, maximum=validation.MAX_SAMPLES)
        )
        steps, _, _ = self._checked_sampling(1, steps, None, 1.0)
        batch, known = int(context.shape[0]), int(context.shape[1])
        repeated = np.repeat(ops.convert_to_numpy(context), count, axis=0)
        blocks = _prediction_blocks(known, horizon, self.clip_shape[0], self.max_context_frames)
        noise = ops.reshape(self.sample_noise(blocks * batch * count, seed), (blocks, batch * count, self.latent_dim))
        future = ops.convert_to_numpy(self._compiled_rollout()(repeated, horizon, noise, np.int32(steps)))
        future = future.reshape((batch, count, horizon) + frame_shape)
        return ops.convert_to_tensor(future[:, 0] if num_samples is None else future)

    def rollout_from_noise(self, context, horizon, noise, steps):
        """Traceable `predict_future`: `horizon` frames after `context`, one block of the window per `noise` row.

        Args:
            context: `(batch, known, height, width, channels)`, known >= 1.
            horizon: int (a tensor under TensorFlow).
            noise: `(blocks, batch, latent_dim)`, blocks as
                `prediction_blocks(known, horizon)` counts them.
            steps: sampler steps per block.

        Returns:
            `(batch, horizon, height, width, channels)`.
        """
        context = ops.cast(context, "float32")
        frames, frame_shape = self.clip_shape[0], self.clip_shape[1:]
        shape = ops.shape(context)
        batch, known = shape[0], shape[1]
        buffer = ops.concatenate([context, ops.zeros((batch, horizon + frames) + frame_shape, "float32")], axis=1)
        null = ops.full((batch,), self.num_classes, dtype="int32")
        positions = ops.arange(frames, dtype="int32")[None, :]

        def unfinished(block, pointer, buffer):
            return pointer < known + horizon

        def next_block(block, pointer, buffer):
            given = ops.minimum(pointer, self.max_context_frames)
            start = pointer - given
            window = ops.slice(buffer, (0, start, 0, 0, 0), (batch, frames) + frame_shape)
            mask = ops.cast(ops.broadcast_to(positions < given, (batch, frames)), "float32")
            clips = self.generate_clips(noise[block], steps, null, 1.0, window, mask)
            buffer = ops.slice_update(buffer, (0, start, 0, 0, 0), clips)
            return block + 1, start + frames, buffer

        _, _, buffer = ops.while_loop(unfinished, next_block, (0, known, buffer))
        return ops.slice(buffer, (0, known, 0, 0, 0), (batch, horizon) + frame_shape)

    def prediction_blocks(self, known, horizon):
        """How many windows `predict_future` samples for `known` context frames and `horizon` new ones."""
        return _prediction_blocks(known, horizon, self.clip_shape[0], self.max_context_frames)

    def _compiled_rollout(self):
        """`rollout_from_noise` compiled: one `tf.function`, or a `jax.jit` per horizon (the buffer's size)."""
        if "rollout" in self._compiled:
            return self._compiled["rollout"]
        backend = keras.backend.backend()
        function = self.rollout_from_noise
        if backend == "tensorflow":
            import tensorflow as tf

            traced = tf.function(
                self.rollout_from_noise,
                input_signature=[
                    tf.TensorSpec((None, None) + self.clip_shape[1:], tf.float32),
                    tf.TensorSpec((), tf.int32),
                    tf.TensorSpec((None, None, self.latent_dim), tf.float32),
                    tf.TensorSpec((), tf.int32),
                ],
                reduce_retracing=True,
            )

            def function(context, horizon, noise, steps):
                return traced(context, tf.constant(horizon, tf.int32), noise, steps)

        elif backend == "jax":
            import jax

            variables = self.variables

            def stateless(values, context, horizon, noise, steps):
                with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                    return self.rollout_from_noise(context, horizon, noise, steps)

            jitted = jax.jit(stateless, static_argnums=2)

            def function(context, horizon, noise, steps):
                return jitted([variable.value for variable in variables], context, horizon, noise, steps)

        self._compiled["rollout"] = function
        return function

    # === Role hooks: serving, previews, evaluation, the CLI ===

    default_signature = "sample"
    trains_on_labels = True  # tfvidgen train feeds (clips, labels) where the data has labels.

    def sample_step(self, num_samples, seed, steps=None, labels=None, guidance=1.0):
        """Traceable `sample`: clips from the seed's noise; `labels` -1 (or none at all) means unconditional."""
        noise = replica_random.seeded_normal(num_samples, self.latent_dim, seed)
        batch = ops.shape(noise)[0]
        null = ops.full((batch,), self.num_classes, dtype="int32")
        if labels is None:
            labels = null
        else:
            labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
            labels = ops.cond(ops.equal(ops.size(labels), 0), lambda: null, lambda: labels)
            labels = ops.where(labels < 0, null, labels)
        steps = self.sampling_steps if steps is None else steps
        context = ops.zeros((batch,) + self.clip_shape, "float32")
        mask = ops.zeros((batch, self.clip_shape[0]), "float32")
        return self.generate_clips(noise, steps, labels, ops.cast(guidance, "float32"), context, mask)

    def decode_step(self, latents, steps=None):
        """Traceable `decode`: the deterministic sampler from `(batch, latent_dim)` noise, unconditional."""
        batch = ops.shape(latents)[0]
        null = ops.full((batch,), self.num_classes, dtype="int32")
        context = ops.zeros((batch,) + self.clip_shape, "float32")
        mask = ops.zeros((batch, self.clip_shape[0]), "float32")
        steps = self.sampling_steps if steps is None else steps
        return self.generate_clips(latents, steps, null, 1.0, context, mask)

    def _steps_input(self):
        return signature_spec.ScalarInput("steps", minimum=1, maximum=MAX_SAMPLING_STEPS)

    def sample_signature(self):
        """`sample`: `(num_samples, seed, steps, labels, guidance)` -> `{"clips"}`.

        `labels` is int32 `(num_samples,)` (-1: no label) or empty (all
        unconditional); `steps`, `labels` and `guidance` may be left out of
        an `ExportedModel.sample` call (defaults: the model's
        `sampling_steps`, none, 1.0).
        """
        base = super().sample_signature()
        top = self.num_classes - 1

        def sample(num_samples, seed, steps, labels, guidance):
            return {"clips": self.sample_step(num_samples, seed, steps, labels, guidance)}

        def checks(num_samples, seed, steps, labels, guidance):
            size = ops.size(labels)
            padded = ops.concatenate([ops.cast(labels, "int32"), ops.full((1,), -1, dtype="int32")])
            return [
                (size * (size - num_samples), "==", 0, "`labels` must hold one label per sample (num_samples) or none"),
                (ops.min(padded), ">=", -1, "`labels` must be >= -1 (-1: no label)"),
                (ops.max(padded), "<=", top, f"`labels` must be class indices <= {top}"),
                (guidance, ">=", 0.0, "`guidance` must be in [0, 100]"),
                (guidance, "<=", MAX_GUIDANCE, "`guidance` must be in [0, 100]"),
            ]

        return base._replace(
            function=sample,
            inputs=base.inputs
            + [
                self._steps_input(),
                signature_spec.TensorInput("labels", (None,), "int32", ("samples",)),
                signature_spec.ScalarInput("guidance", "float32"),
            ],
            example={
                **base.example,
                "steps": np.array(2, np.int32),
                "labels": np.array([3, -1], np.int32)[: 2 if self.num_classes else 0],
                "guidance": np.array(2.0, np.float32),
            },
            checks=checks,
            defaults={"steps": self.sampling_steps, "labels": [], "guidance": 1.0},
        )

    def decode_signature(self):
        """`decode`: `(latents, steps)` -> `{"clips"}`: the deterministic sampler from given noise."""
        base = super().decode_signature()
        return base._replace(
            function=lambda latents, steps: {"clips": self.decode_step(latents, steps)},
            inputs=base.inputs + [self._steps_input()],
            example={**base.example, "steps": np.array(2, np.int32)},
            defaults={"steps": self.sampling_steps},
        )

    def extra_signatures(self):
        """`rollout`: `(context, num_future_frames, seed, steps)` -> `{"future_frames"}`, one future per clip."""
        frame_shape = self.clip_shape[1:]

        def rollout(context, num_future_frames, seed, steps):
            batch, known = ops.shape(context)[0], ops.shape(context)[1]
            blocks = _prediction_blocks(known, num_future_frames, self.clip_shape[0], self.max_context_frames)
            noise = replica_random.seeded_normal(blocks * batch, self.latent_dim, seed)
            noise = ops.reshape(noise, (blocks, batch, self.latent_dim))
            return {"future_frames": self.rollout_from_noise(context, num_future_frames, noise, steps)}

        def checks(context, num_future_frames, seed, steps):
            return [(ops.shape(context)[1], ">=", 1, "`context` must have at least one frame")]

        example = np.random.default_rng(0).random((1, self.max_context_frames) + frame_shape).astype("float32")
        return {
            "rollout": signature_spec.Signature(
                rollout,
                [
                    signature_spec.TensorInput("context", (None, None) + frame_shape),
                    signature_spec.ScalarInput("num_future_frames", minimum=0, maximum=validation.MAX_FRAMES),
                    signature_spec.ScalarInput("seed"),
                    self._steps_input(),
                ],
                {
                    "context": example,
                    "num_future_frames": np.array(2, np.int32),
                    "seed": np.array(0, np.int32),
                    "steps": np.array(2, np.int32),
                },
                checks,
                defaults={"seed": 0, "steps": self.sampling_steps},
            )
        }

    @property
    def frame_shape(self):
        """`(height, width, channels)` of the frames (what `tfvidgen predict` reads)."""
        return self.clip_shape[1:]

    @property
    def context_frames(self):
        """Context frames a prediction block keeps (what `tfvidgen predict` feeds by default)."""
        return self.max_context_frames

    def previews(self, batch, seed=0):
        """Four unconditional samples and, with labels, four of digits 0-3 (a sampler is slow: few clips)."""
        previews = {"samples": self.sample(4, seed=seed)}
        if self.num_classes:
            previews["class_samples"] = self.sample(4, seed=seed, labels=np.arange(4) % self.num_classes, guidance=2.0)
        return previews

    def evaluation_extras(self, clips, batch_size):
        """The autoencoder's reconstruction PSNR/SSIM on `clips`: the floor under the samples' quality."""
        from tfvidgen.metrics.frame_metrics import per_frame_psnr
        from tfvidgen.metrics.frame_metrics import per_frame_ssim

        reconstructions = np.concatenate(
            [
                ops.convert_to_numpy(self(clips[start : start + batch_size]))
                for start in range(0, len(clips), batch_size)
            ]
        )
        return {
            "reconstruction_psnr": float(np.mean(ops.convert_to_numpy(per_frame_psnr(clips, reconstructions)))),
            "reconstruction_ssim": float(np.mean(ops.convert_to_numpy(per_frame_ssim(clips, reconstructions)))),
        }


def _prediction_blocks(known, horizon, frames, max_context_frames):
    """Windows needed: the first adds `frames - min(known, max_context_frames)`, each next `frames - max_context`."""
    later = frames - max_context_frames
    if isinstance(known, int) and isinstance(horizon, int):
        rest = max(horizon - (frames - min(known, max_context_frames)), 0)
        return 1 + -(-rest // later)
    first = frames - ops.minimum(known, max_context_frames)
    rest = ops.maximum(horizon - first, 0)
    return 1 + (rest + later - 1) // later
