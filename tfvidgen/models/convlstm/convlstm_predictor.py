"""ConvLSTM next-frame predictor: the training task and rollout around `ConvLSTMBackbone`."""

import keras
from keras import ops

from tfvidgen import replica_random
from tfvidgen import schedules
from tfvidgen import validation
from tfvidgen.models import gradient_steps
from tfvidgen.models.frame_predictor import FramePredictor
from tfvidgen.models.convlstm import convlstm_rollout
from tfvidgen.models.convlstm.convlstm_backbone import ConvLSTMBackbone
from tfvidgen.models.convlstm.convlstm_presets import CONVLSTM_PRESETS


@keras.saving.register_keras_serializable(package="tfvidgen")
class ConvLSTMPredictor(FramePredictor, keras.Model):
    """Predicts the next frames of a video with stacked `ConvLSTM2D` layers.

    The network is a `ConvLSTMBackbone` (`self.backbone`): frames folded into
    patches, stacked `keras.layers.ConvLSTM2D` layers and a causal per-frame
    head. This task model trains it and rolls it out, on every Keras backend
    (`convlstm_rollout`: a `tf.while_loop` on TensorFlow, `ops.scan` under
    `jax.jit`).

    `fit` takes `(context, target)` pairs, or whole clips whose first
    `context_frames` are the context. Training predicts every next frame of
    `concat(context, target)`; with `teacher_forcing` below 1 the future inputs
    are, per clip and frame, the model's own previous prediction instead of the
    ground truth (scheduled sampling). `evaluate` scores the free-running
    rollout of the target frames from the context, as the papers report.

    Args:
        backbone: a `ConvLSTMBackbone`; `None` builds the default one. (Its
            arguments given here instead, flat, still build it, with a
            `DeprecationWarning`; `from_preset(name, **overrides)` takes them.)
        context_frames: frames of a whole clip used as context in `fit`, and
            the default context length of the exported rollout.
        teacher_forcing: probability of feeding the ground truth future frame
            during training: `None` (always, the fast path), a float, or a
            schedule over training steps (`tfvidgen.schedules`).
        seed: seed of the scheduled-sampling draws.

    Input shape:
        `(batch, frames, height, width, channels)` float32 in [0, 1].

    Output shape:
        `call`: `(batch, frames, height, width, channels)`, output `t` being
        the prediction of input frame `t + 1`. `predict_future(context, n)`:
        `(batch, n, height, width, channels)`.

    Example:

    >>> model = ConvLSTMPredictor(backbone=ConvLSTMBackbone((16, 16, 1), filters=(8, 8), patch_size=2))
    >>> model = ConvLSTMPredictor.from_preset("tiny", teacher_forcing=0.5)  # A preset, one argument changed.
    >>> model.compile()
    >>> future = model.predict_future(np.zeros((1, 3, 16, 16, 1), "float32"), 5)
    >>> tuple(future.shape)
    (1, 5, 16, 16, 1)

    Reference:
        Shi et al., "Convolutional LSTM Network: A Machine Learning Approach for
        Precipitation Nowcasting", NeurIPS 2015. Bengio et al., "Scheduled
        Sampling for Sequence Prediction with Recurrent Neural Networks",
        NeurIPS 2015.
    """

    presets = CONVLSTM_PRESETS
    pretrained = {"moving_mnist": "convlstm_cpu_small"}  # saved_models/convlstm_cpu_small: from_preset("moving_mnist").
    family = "convlstm"

    network_classes = {"backbone": ConvLSTMBackbone}

    def __init__(self, backbone=None, context_frames=10, teacher_forcing=None, seed=None, **kwargs):
        networks, kwargs = self.networks_from_arguments({"backbone": backbone}, kwargs)
        context_frames = validation.positive_int("context_frames", context_frames)
        if teacher_forcing is not None:  # None: free-running, no teacher forcing.
            teacher_forcing = schedules.number_or_schedule("teacher_forcing", teacher_forcing, validation.probability)
        super().__init__(**kwargs)
        self.backbone = networks["backbone"]
        self.context_frames = context_frames
        self.teacher_forcing = teacher_forcing
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    @property
    def frame_shape(self):
        return self.backbone.frame_shape

    def call(self, frames, training=False):
        return self.backbone(frames, training=training)

    # === Rollout ===

    def rollout(self, context, num_future_frames, training=False):
        """In-graph rollout: `(batch, T, H, W, C)` context -> `(batch, N, H, W, C)`.

        Runs the context through the stack, then feeds each prediction back as
        the next input. Under TensorFlow `num_future_frames` may be a tensor;
        0 gives an empty `(batch, 0, H, W, C)`.
        """
        return convlstm_rollout.rollout(self.backbone, context, num_future_frames, training=training)

    # === Training ===

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

    def _training_phases(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        context, target = self.context_and_target(x, y)
        num_context = context.shape[1]
        clip = ops.concatenate([context, ops.cast(target, context.dtype)], axis=1)
        inputs, next_frames = clip[:, :-1], clip[:, 1:]

        def loss():
            if self.teacher_forcing is None:
                predictions = self(inputs, training=True)
            else:
                probability = schedules.value_at(self.teacher_forcing, self.optimizer.iterations)
                draws = replica_random.uniform((ops.shape(clip)[0], ops.shape(target)[1] - 1), self.seed_generator)
                predictions = convlstm_rollout.unroll(
                    self.backbone, clip, num_context, clip.shape[1] - 1, truth_mask=draws < probability, training=True
                )
            loss = self.compute_loss(x=inputs, y=next_frames, y_pred=predictions, sample_weight=sample_weight)
            return loss, (loss, target, predictions[:, num_context - 1 :], sample_weight)

        return [gradient_steps.Phase(self.optimizer, self.trainable_variables, loss)]

    def _evaluation_logs(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        context, target = self.context_and_target(x, y)
        predictions = self.rollout(context, target.shape[1] if target.shape[1] is not None else ops.shape(target)[1])
        loss = self.compute_loss(x=context, y=target, y_pred=predictions, sample_weight=sample_weight, training=False)
        return self._update_metrics(loss, target, predictions, sample_weight)
