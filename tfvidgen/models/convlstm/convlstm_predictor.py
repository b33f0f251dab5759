"""ConvLSTM next-frame predictor with scheduled sampling and in-graph rollout."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfvidgen import distribute
from tfvidgen import metrics as video_metrics
from tfvidgen import replica_random
from tfvidgen import schedules
from tfvidgen import validation
from tfvidgen.export import endpoints
from tfvidgen.layers import DepthToSpace
from tfvidgen.layers import SpaceToDepth
from tfvidgen.losses import L1L2
from tfvidgen.models.convlstm.convlstm_presets import CONVLSTM_PRESETS
from tfvidgen.models.video_model import VideoModel

LOSSES = {
    "mse": keras.losses.MeanSquaredError,
    "bce": keras.losses.BinaryCrossentropy,
    "l1_l2": L1L2,
}


@keras.saving.register_keras_serializable(package="tfvidgen")
class ConvLSTMPredictor(VideoModel, keras.Model):
    """Predicts the next frames of a video with stacked `ConvLSTM2D` layers.

    Frames are optionally folded into patches (space-to-depth, as OpenSTL does),
    run through stacked `keras.layers.ConvLSTM2D` layers, and mapped back to a
    frame by a per-frame head. The network is causal: the prediction of frame
    `t + 1` depends on frames `<= t` only (the head's temporal kernel is 1).

    `fit` takes `(context, target)` pairs, or whole clips whose first
    `context_frames` are the context. Training predicts every next frame of
    `concat(context, target)`; with `teacher_forcing` below 1 the future inputs
    are, per clip and frame, the model's own previous prediction instead of the
    ground truth (scheduled sampling). `evaluate` scores the free-running
    rollout of the target frames from the context, as the papers report.

    Args:
        frame_shape: `(height, width, channels)`; height and width divisible by
            `patch_size`. ConvLSTM layers need them static.
        filters: filters of each ConvLSTM layer (one int per layer).
        kernel_sizes: kernel size of each layer (an int for all).
        patch_size: space-to-depth patch side (1 for none).
        head_kernel_size: spatial kernel of the per-frame output convolution.
        context_frames: frames of a whole clip used as context in `fit`, and
            the default context length of the exported rollout.
        teacher_forcing: probability of feeding the ground truth future frame
            during training: `None` (always, the fast path), a float, or a
            schedule over training steps (`tfvidgen.schedules`).
        output_activation: `"sigmoid"` keeps frames in [0, 1].
        seed: seed of the scheduled-sampling draws.

    Input shape:
        `(batch, frames, height, width, channels)` float32 in [0, 1].

    Output shape:
        `call`: `(batch, frames, height, width, channels)`, output `t` being
        the prediction of input frame `t + 1`. `predict_future(context, n)`:
        `(batch, n, height, width, channels)`.

    Example:

    >>> model = ConvLSTMPredictor.from_preset("tiny")
    >>> model.compile()
    >>> future = model.predict_future(np.zeros((1, 3, 16, 16, 1), "float32"), 5)
    >>> future.shape
    TensorShape([1, 5, 16, 16, 1])

    Reference:
        Shi et al., "Convolutional LSTM Network: A Machine Learning Approach for
        Precipitation Nowcasting", NeurIPS 2015. Bengio et al., "Scheduled
        Sampling for Sequence Prediction with Recurrent Neural Networks",
        NeurIPS 2015.
    """

    presets = CONVLSTM_PRESETS
    pretrained = {"moving_mnist": "convlstm_cpu_small"}  # saved_models/convlstm_cpu_small: from_preset("moving_mnist").

    def __init__(
        self,
        frame_shape=(64, 64, 1),
        filters=(64, 64),
        kernel_sizes=3,
        patch_size=1,
        head_kernel_size=1,
        context_frames=10,
        teacher_forcing=None,
        output_activation="sigmoid",
        seed=None,
        **kwargs,
    ):
        frame_shape = tuple(frame_shape)
        if len(frame_shape) != 3:
            raise ValueError(f"`frame_shape` must be (height, width, channels). Received: frame_shape={frame_shape!r}")
        height, width = validation.frame_size("frame_shape[:2]", frame_shape[:2])
        channels = validation.channels("frame_shape[2]", frame_shape[2])
        patch_size = validation.positive_int("patch_size", patch_size)
        if height % patch_size or width % patch_size:
            raise ValueError(
                f"`patch_size` ({patch_size}) must divide the frame height and width "
                f"({height}x{width}). Received: patch_size={patch_size}"
            )
        filters = validation.int_list("filters", filters)
        kernel_sizes = validation.int_list("kernel_sizes", kernel_sizes, length=len(filters))
        head_kernel_size = validation.positive_int("head_kernel_size", head_kernel_size)
        context_frames = validation.positive_int("context_frames", context_frames)
        teacher_forcing = schedules.deserialize(teacher_forcing)
        if isinstance(teacher_forcing, (int, float)):
            teacher_forcing = validation.probability("teacher_forcing", teacher_forcing)

        # === Layers ===
        space_to_depth = SpaceToDepth(patch_size, name="space_to_depth")
        recurrent_layers = [
            keras.layers.ConvLSTM2D(
                layer_filters, kernel_size, padding="same", return_sequences=True, name=f"conv_lstm_{index}"
            )
            for index, (layer_filters, kernel_size) in enumerate(zip(filters, kernel_sizes))
        ]
        # Causal: a temporal kernel of 1 keeps the head from seeing frame t+1.
        head = keras.layers.Conv3D(
            channels * patch_size**2, (1, head_kernel_size, head_kernel_size), padding="same", name="head"
        )
        depth_to_space = DepthToSpace(patch_size, name="depth_to_space")
        activation = keras.layers.Activation(output_activation, dtype="float32", name="next_frame")

        # === Functional Model ===
        frames = keras.Input(shape=(None, height, width, channels), name="frames")
        x = space_to_depth(frames)
        for layer in recurrent_layers:
            x = layer(x)
        outputs = activation(depth_to_space(head(x)))
        super().__init__(inputs=frames, outputs=outputs, **kwargs)

        # === Config ===
        self.frame_shape = (height, width, channels)
        self.filters = filters
        self.kernel_sizes = kernel_sizes
        self.patch_size = patch_size
        self.head_kernel_size = head_kernel_size
        self.context_frames = context_frames
        self.teacher_forcing = teacher_forcing
        self.output_activation = output_activation
        self.seed = seed

        self.space_to_depth = space_to_depth
        self.recurrent_layers = recurrent_layers
        self.head = head
        self.depth_to_space = depth_to_space
        self.activation_layer = activation
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._rollout_function = None

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "frame_shape": self.frame_shape,
            "filters": self.filters,
            "kernel_sizes": self.kernel_sizes,
            "patch_size": self.patch_size,
            "head_kernel_size": self.head_kernel_size,
            "context_frames": self.context_frames,
            "teacher_forcing": schedules.serialize(self.teacher_forcing),
            "output_activation": self.output_activation,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def compile(self, optimizer="auto", loss="mse", metrics="auto", **kwargs):
        """Compiles with defaults that train straight away.

        Args:
            optimizer: an optimizer; `"auto"` is Adam with learning rate 1e-3.
            loss: `"mse"` (default), `"bce"`, `"l1_l2"`, or a Keras loss.
            metrics: `"auto"` is `FrameMSE`, `FrameMAE` and `PSNR`. SSIM is left
                out of the default because it costs ~30% of a `cpu_small`
                training step on 2 CPU cores; `tfvidgen.metrics.evaluate_predictions`
                and `tfvidgen evaluate` always report it, and
                `metrics=[..., tfvidgen.metrics.SSIM()]` adds it to `fit`.
            **kwargs: passed to `keras.Model.compile`.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        if isinstance(loss, str) and loss in LOSSES:
            loss = LOSSES[loss]()
        if metrics == "auto":
            metrics = [video_metrics.FrameMSE(), video_metrics.FrameMAE(), video_metrics.PSNR()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    # === Recurrence, one frame at a time ===

    def _initial_states(self, batch_size):
        height, width = self.frame_shape[0] // self.patch_size, self.frame_shape[1] // self.patch_size
        dtype = self.recurrent_layers[0].compute_dtype
        return [
            (tf.zeros((batch_size, height, width, f), dtype), tf.zeros((batch_size, height, width, f), dtype))
            for f in self.filters
        ]

    def _step(self, frame, states, training):
        x = self.space_to_depth(frame[:, None])[:, 0]
        new_states = []
        for layer, (hidden, carry) in zip(self.recurrent_layers, states):
            x, (hidden, carry) = layer.cell(x, [hidden, carry], training=training)
            new_states.append((hidden, carry))
        prediction = self.activation_layer(self.depth_to_space(self.head(x[:, None])))[:, 0]
        return prediction, new_states

    def _unroll(self, frames, num_context, num_steps, truth_mask=None, training=False):
        """Runs `num_steps` steps. Step t reads `frames[:, t]` while t < `num_context`,
        then the previous prediction, or the truth where `truth_mask[:, t - num_context]`."""
        batch_size = tf.shape(frames)[0]
        available = tf.shape(frames)[1]
        predictions = tf.TensorArray(tf.float32, size=num_steps, element_shape=(None,) + self.frame_shape)

        def body(step, previous, states, predictions):
            truth = tf.gather(frames, tf.minimum(step, available - 1), axis=1)
            use_truth = tf.fill([batch_size], step < num_context)
            if truth_mask is not None:
                # The mask has a column per fed future frame; with one target frame it has none.
                padded = tf.concat([truth_mask, tf.zeros([batch_size, 1], tf.bool)], axis=1)
                future_index = tf.clip_by_value(step - num_context, 0, tf.shape(padded)[1] - 1)
                use_truth = use_truth | tf.gather(padded, future_index, axis=1)
            frame = tf.where(use_truth[:, None, None, None], truth, tf.cast(previous, truth.dtype))
            prediction, states = self._step(frame, states, training)
            return step + 1, prediction, states, predictions.write(step, prediction)

        _, _, _, predictions = tf.while_loop(
            lambda step, *_: step < num_steps,
            body,
            (tf.constant(0), tf.zeros_like(frames[:, 0], tf.float32), self._initial_states(batch_size), predictions),
        )
        return tf.transpose(predictions.stack(), (1, 0, 2, 3, 4))

    def rollout(self, context, num_future_frames, training=False):
        """Graph-mode rollout: `(batch, T, H, W, C)` context -> `(batch, N, H, W, C)`.

        Runs the context through the stack, then feeds each prediction back as
        the next input. `num_future_frames` may be a tensor; 0 gives an empty
        `(batch, 0, H, W, C)`.
        """
        num_context = tf.shape(context)[1]
        num_future_frames = tf.reshape(tf.cast(num_future_frames, tf.int32), [])
        num_steps = tf.maximum(num_context + num_future_frames - 1, 1)
        predictions = self._unroll(context, num_context, num_steps, training=training)
        return predictions[:, num_context - 1 : num_context - 1 + num_future_frames]

    def predict_future(self, context, horizon):
        """Predicts `horizon` frames after `context`, autoregressively, in one graph.

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
        if context.shape.rank != 5 or tuple(context.shape[2:]) != self.frame_shape or context.shape[1] == 0:
            raise ValueError(
                f"`context` must have shape (batch, frames >= 1, {', '.join(map(str, self.frame_shape))}). "
                f"Received shape {tuple(context.shape)}"
            )
        horizon = validation.non_negative_int("horizon", horizon, maximum=validation.MAX_FRAMES)
        if self._rollout_function is None:
            self._rollout_function = tf.function(
                self.rollout,
                input_signature=[
                    tf.TensorSpec((None, None) + self.frame_shape, tf.float32),
                    tf.TensorSpec((), tf.int32),
                ],
                reduce_retracing=True,
            )
        return self._rollout_function(context, tf.constant(horizon, tf.int32))

    def export_endpoints(self):
        """`serving_default`/`predict`: frames -> next frames; `rollout`: (context, n) -> n future frames.

        Batch and time are dynamic; height, width and channels are this model's.
        """
        video_shape = (None, None) + self.frame_shape

        def predict(frames):
            return {"next_frames": self(endpoints.checked(frames, video_shape, "frames"), training=False)}

        def rollout(context, num_future_frames):
            context = endpoints.checked(context, video_shape, "context")
            has_frames = tf.debugging.assert_positive(tf.shape(context)[1], message="`context` needs at least 1 frame")
            num_future_frames = endpoints.non_negative(
                endpoints.at_most(
                    endpoints.scalar(num_future_frames, "num_future_frames"), validation.MAX_FRAMES, "num_future_frames"
                ),
                "num_future_frames",
            )
            with tf.control_dependencies([has_frames]):
                return {"future_frames": self.rollout(context, num_future_frames)}

        context = np.random.default_rng(0).random((1, self.context_frames) + self.frame_shape).astype("float32")
        predict_endpoint = endpoints.Endpoint(
            predict, [endpoints.video_spec(video_shape, "frames")], {"frames": context}
        )
        return {
            "serving_default": predict_endpoint,
            "predict": predict_endpoint,
            "rollout": endpoints.Endpoint(
                rollout,
                [endpoints.video_spec(video_shape, "context"), endpoints.scalar_spec("num_future_frames")],
                {"context": context, "num_future_frames": np.array(10, np.int32)},
            ),
        }

    def previews(self, batch, seed=0):
        """The true clip and, below it, the context followed by the rollout."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(batch)
        context, target = self._context_and_target(
            tf.convert_to_tensor(x), None if y is None else tf.convert_to_tensor(y)
        )
        future = self.predict_future(context, int(target.shape[1]))
        return {
            "truth": tf.concat([context, tf.cast(target, tf.float32)], axis=1),
            "prediction": tf.concat([context, future], axis=1),
        }

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

    # === Training ===

    def _context_and_target(self, x, y):
        if y is None:
            return x[:, : self.context_frames], x[:, self.context_frames :]
        return x, y

    def _next_frame_targets(self, x, y, y_pred):
        # `call` on whole clips (`y` None) predicts every next frame. Keras' own
        # symbolic build (used under tf.distribute) calls `compute_loss` and
        # `compute_metrics` that way: score the predictions against the clip.
        if y is None:
            return x[:, 1:], y_pred[:, :-1]
        return y, y_pred

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        y, y_pred = self._next_frame_targets(x, y, y_pred)
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        y, y_pred = self._next_frame_targets(x, y, y_pred)
        return super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _update_metrics(self, loss, target, predictions, sample_weight):
        for metric in self.metrics:
            if metric.name == "loss":
                # compute_loss divides by the replica count; report the true value.
                metric.update_state(loss * replica_random.num_replicas())
            else:
                metric.update_state(target, predictions, sample_weight=sample_weight)
        return distribute.step_outputs(self.get_metrics_result())

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        context, target = self._context_and_target(x, y)
        num_context = context.shape[1]
        clip = ops.concatenate([context, ops.cast(target, context.dtype)], axis=1)
        inputs, next_frames = clip[:, :-1], clip[:, 1:]
        with tf.GradientTape() as tape:
            if self.teacher_forcing is None:
                predictions = self(inputs, training=True)
            else:
                probability = schedules.value_at(self.teacher_forcing, self.optimizer.iterations)
                draws = replica_random.uniform((ops.shape(clip)[0], ops.shape(target)[1] - 1), self.seed_generator)
                predictions = self._unroll(
                    clip, num_context, ops.shape(clip)[1] - 1, truth_mask=draws < probability, training=True
                )
            loss = self.compute_loss(x=inputs, y=next_frames, y_pred=predictions, sample_weight=sample_weight)
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return self._update_metrics(loss, target, predictions[:, num_context - 1 :], sample_weight)

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        context, target = self._context_and_target(x, y)
        predictions = self.rollout(context, ops.shape(target)[1])
        loss = self.compute_loss(x=context, y=target, y_pred=predictions, sample_weight=sample_weight, training=False)
        return self._update_metrics(loss, target, predictions, sample_weight)
