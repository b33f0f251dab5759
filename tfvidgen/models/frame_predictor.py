"""The predictor role (ConvLSTM, SimVP): compile defaults, `predict_future`, inputs, metrics, signatures, previews."""

import keras
import numpy as np
from keras import ops

from tfvidgen import distribute
from tfvidgen import replica_random
from tfvidgen import validation
from tfvidgen.losses import L1L2
from tfvidgen.metrics import frame_metrics
from tfvidgen.models import gradient_steps
from tfvidgen.models import model_role
from tfvidgen.models import signature_spec
from tfvidgen.models.video_model import VideoModel

LOSSES = {
    "mse": keras.losses.MeanSquaredError,
    "bce": keras.losses.BinaryCrossentropy,
    "l1_l2": L1L2,
}


class FramePredictor(gradient_steps.PhasedSteps, model_role.ModelRole, VideoModel):
    """Mixin (before `keras.Model`) for models that continue a video: context frames in, future frames out.

    A predictor sets `self.frame_shape`, `self.context_frames` and
    `self.backbone`, and implements `call(frames)` (its one-pass prediction)
    and `rollout(context, n)` (in-graph; `n` may be a tensor under
    TensorFlow), optionally `_jit_rollout` (what `jax.jit` traces with a
    static `n`; `rollout` by default). It gets `compile` with defaults, a
    checked `predict_future`, `fit` on whole clips or `(context, target)`
    pairs, metric updates that report the true loss under tf.distribute, and
    the role's hooks (`tfvidgen.models.model_role`): the `predict` and
    `rollout` serving signatures, training previews, the CLI's clips.
    """

    role = "prediction"
    default_signature = "predict"
    accepts_loss = True
    checkpoint_monitor = "val_loss"
    default_loss = "mse"  # What `compile(loss="auto")` and `tfvidgen train` use.

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Compiles with defaults that train straight away.

        Args:
            optimizer: an optimizer; `"auto"` is Adam with learning rate 1e-3.
            loss: `"auto"` (the family's `default_loss`: MSE for the ConvLSTM,
                L1 + L2 for the SimVP), `"mse"`, `"bce"`, `"l1_l2"`, or a Keras loss.
            metrics: `"auto"` is `FrameMSE`, `FrameMAE` and `PSNR`. SSIM is left
                out of the default because it costs ~30% of a ConvLSTM `cpu_small`
                training step on 2 CPU cores; `tfvidgen.metrics.evaluate_predictions`
                and `tfvidgen evaluate` always report it, and
                `metrics=[..., tfvidgen.metrics.SSIM()]` adds it to `fit`.
            **kwargs: passed to `keras.Model.compile`.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        if loss == "auto":
            loss = self.default_loss
        if isinstance(loss, str) and loss in LOSSES:
            loss = LOSSES[loss]()
        if metrics == "auto":
            metrics = [frame_metrics.FrameMSE(), frame_metrics.FrameMAE(), frame_metrics.PSNR()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def predict_future(self, context, horizon):
        """Predicts `horizon` frames after `context` in one compiled loop.

        Args:
            context: `(batch, frames, height, width, channels)`, any number of
                frames >= 1, in [0, 1].
            horizon: number of future frames, an int in [0, 100,000]
                (`tfvidgen.validation.MAX_FRAMES`); may exceed the training
                horizon.

        Returns:
            float32 tensor `(batch, horizon, height, width, channels)`.
        """
        context = validation.float32_tensor(context)
        if len(context.shape) != 5 or tuple(context.shape[2:]) != self.frame_shape or context.shape[1] == 0:
            raise ValueError(
                f"`context` must have shape (batch, frames >= 1, {', '.join(map(str, self.frame_shape))}). "
                f"Received shape {tuple(context.shape)}"
            )
        horizon = validation.non_negative_int("horizon", horizon, maximum=validation.MAX_FRAMES)
        if getattr(self, "_rollout_function", None) is None:
            self._rollout_function = self._compiled_rollout()
        return self._rollout_function(context, horizon)

    def _jit_rollout(self, context, horizon):
        return self.rollout(context, horizon)

    def _compiled_rollout(self):
        """`(context, horizon) -> future frames`, compiled once per backend (per shape and horizon on JAX).

        TensorFlow: one `tf.function` with a tensor horizon. JAX: `jax.jit` of
        `_jit_rollout` with the backbone's variables mapped in a
        `keras.StatelessScope` and the horizon static.
        """
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            function = tf.function(
                self.rollout,
                input_signature=[
                    tf.TensorSpec((None, None) + self.frame_shape, tf.float32),
                    tf.TensorSpec((), tf.int32),
                ],
                reduce_retracing=True,
            )
            return lambda context, horizon: function(context, tf.constant(horizon, tf.int32))
        if backend == "jax":
            import jax

            variables = self.backbone.variables

            def stateless(values, context, horizon):
                with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                    return self._jit_rollout(context, horizon)

            function = jax.jit(stateless, static_argnums=2)
            return lambda context, horizon: function([v.value for v in variables], context, horizon)
        return self.rollout

    # === Role hooks: serving, previews, the CLI ===

    def serving_signatures(self):
        """`predict`: `frames` -> `next_frames`, the model's `call` (one pass: the ConvLSTM's next frame at every
        step, the SimVP's `future_frames` frames after the context); `rollout`: `(context, num_future_frames)` ->
        `future_frames`, the model's `rollout`, any horizon up to `tfvidgen.validation.MAX_FRAMES`.

        Batch and time are dynamic; height, width and channels are this model's.
        """
        video = (None, None) + self.frame_shape
        example = np.random.default_rng(0).random((1, self.context_frames) + self.frame_shape).astype("float32")

        def predict(frames):
            return {"next_frames": self(frames, training=False)}

        def rollout(context, num_future_frames):
            return {"future_frames": self.rollout(context, num_future_frames)}

        signatures = {
            "predict": signature_spec.Signature(
                predict, [signature_spec.TensorInput("frames", video)], {"frames": example}, _has_frames("frames")
            ),
            "rollout": signature_spec.Signature(
                rollout,
                [
                    signature_spec.TensorInput("context", video),
                    signature_spec.ScalarInput("num_future_frames", minimum=0, maximum=validation.MAX_FRAMES),
                ],
                {"context": example, "num_future_frames": np.array(10, np.int32)},
                _has_frames("context"),
            ),
        }
        return {**signatures, **self.extra_signatures()}

    def previews(self, batch, seed=0):
        """The true clip and, below it, the context followed by the rollout."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(batch)
        context, target = self.context_and_target(
            validation.float32_tensor(x), None if y is None else validation.float32_tensor(y)
        )
        future = self.predict_future(context, int(target.shape[1]))
        return {
            "truth": ops.concatenate([context, target], axis=1),
            "prediction": ops.concatenate([context, future], axis=1),
        }

    def training_clip_shape(self, training):
        """Clips of the preset's `num_frames` (context, then target) at the model's frame shape."""
        return (training["num_frames"],) + tuple(self.frame_shape)

    @classmethod
    def cli_training_settings(cls, learning_rate, training, loss=None):
        """`--loss`, or the family's `default_loss`."""
        return {"loss": loss or cls.default_loss}

    def input_shapes(self, x, y):
        """Whole clips (split at `context_frames`) or `(context, target)` pairs, as `fit` takes them."""
        frames = (None, None) + self.frame_shape
        if y is not None:
            return [("the context", x, frames), ("the target", y, frames)]
        if np.ndim(x) == 5 and np.shape(x)[1] <= self.context_frames:
            raise ValueError(
                f"Whole clips given to `fit` need more than context_frames={self.context_frames} frames (the "
                f"context, then the target); the first batch has {np.shape(x)[1]}. Pass longer clips, or "
                "(context, target) pairs."
            )
        return [("the clips", x, frames)]

    def context_and_target(self, x, y=None):
        """`(context, target)` of a batch: whole clips split at `context_frames`, or the pair as given."""
        if y is None:
            return x[:, : self.context_frames], x[:, self.context_frames :]
        return x, y

    def _record(self, terms):
        ((loss, target, predictions, sample_weight),) = terms
        return self._update_metrics(loss, target, predictions, sample_weight)

    def _update_metrics(self, loss, target, predictions, sample_weight):
        for metric in self.metrics:
            if metric.name == "loss":
                # compute_loss divides by the replica count; report the true value.
                metric.update_state(loss * replica_random.num_replicas())
            else:
                metric.update_state(target, predictions, sample_weight=sample_weight)
        return distribute.step_outputs(self.get_metrics_result())


def _has_frames(name):
    """The signature check that the video input `name` has at least one frame."""
    return lambda **inputs: [(ops.shape(inputs[name])[1], ">", 0, f"`{name}` needs at least 1 frame")]
