"""SimVP-style video predictor: blocks of future frames from blocks of context, all convolutional."""

import keras

from tfvidgen.models import gradient_steps
from tfvidgen.models.frame_predictor import FramePredictor
from tfvidgen.models.simvp import simvp_rollout
from tfvidgen.models.simvp.simvp_backbone import SimVPBackbone
from tfvidgen.models.simvp.simvp_presets import SIMVP_PRESETS


@keras.saving.register_keras_serializable(package="tfvidgen")
class SimVPPredictor(FramePredictor, keras.Model):
    """Predicts the next frames of a video with a SimVP-style convolutional network.

    The sibling of `ConvLSTMPredictor`, with the same API (`fit` on whole clips
    or `(context, target)` pairs, `evaluate` on the free-running rollout,
    `predict_future(context, horizon)` for any horizon, the same `rollout`
    serving signature), and a different network: a `SimVPBackbone` maps
    `context_frames` frames to `future_frames` frames in one pass, with no
    recurrence, so 2 CPU cores spend their time in large convolutions. Longer
    horizons are rolled out block by block, each predicted block joining the
    context of the next (`simvp_rollout`); training on targets longer than
    one block backpropagates through that rollout.

    Args:
        backbone: a `SimVPBackbone`; its `context_frames` also splits whole
            clips given to `fit` into context and target. `None` builds the
            default one. (Its arguments given here instead, flat, still build
            it, with a `DeprecationWarning`; `from_preset(name, **overrides)`
            takes them.)

    Input shape:
        `(batch, frames, height, width, channels)` float32 in [0, 1]; `call`
        uses the last `context_frames` frames (a shorter context is padded in
        front with its first frame).

    Output shape:
        `call`: `(batch, future_frames, height, width, channels)`.
        `predict_future(context, n)`: `(batch, n, height, width, channels)`.

    Example:

    >>> model = SimVPPredictor(backbone=SimVPBackbone((16, 16, 1), context_frames=2, future_frames=2))
    >>> model = SimVPPredictor.from_preset("tiny", future_frames=4)  # A preset, one argument changed.
    >>> model.compile()
    >>> future = model.predict_future(np.zeros((1, 2, 16, 16, 1), "float32"), 5)
    >>> tuple(future.shape)
    (1, 5, 16, 16, 1)

    Reference:
        Gao et al., "SimVP: Simpler yet Better Video Prediction", CVPR 2022.
    """

    presets = SIMVP_PRESETS
    pretrained = {"moving_mnist": "simvp_cpu_small"}  # saved_models/simvp_cpu_small: from_preset("moving_mnist").
    family = "simvp"
    # Same machine, 10 CPU minutes each: L1 + L2 reached SSIM 0.695 where MSE reached 0.384 (MSE's haze around
    # the digits costs structure), at MSE 149.7 against 133.8 (docs/benchmarks.md).
    default_loss = "l1_l2"

    network_classes = {"backbone": SimVPBackbone}

    def __init__(self, backbone=None, **kwargs):
        networks, kwargs = self.networks_from_arguments({"backbone": backbone}, kwargs)
        super().__init__(**kwargs)
        self.backbone = networks["backbone"]
        self.built = True

    @property
    def frame_shape(self):
        return self.backbone.frame_shape

    @property
    def context_frames(self):
        return self.backbone.context_frames

    @property
    def future_frames(self):
        return self.backbone.future_frames

    def call(self, context, training=False):
        return self.backbone(simvp_rollout.context_window(self.backbone, context), training=training)

    # === Rollout ===

    def rollout(self, context, num_future_frames, training=False):
        """In-graph rollout: `(batch, T, H, W, C)` context -> `(batch, N, H, W, C)`, block by block.

        Under TensorFlow `num_future_frames` may be a tensor (the export's
        dynamic horizon); 0 gives an empty `(batch, 0, H, W, C)`.
        """
        return simvp_rollout.rollout(self.backbone, context, num_future_frames, training=training)

    def _jit_rollout(self, context, horizon):
        return simvp_rollout.scan_rollout(self.backbone, context, horizon)

    # === Training ===

    def _whole_clip_targets(self, x, y, y_pred):
        # Keras' symbolic build (under tf.distribute) scores `call` on whole clips: against their target frames.
        if y is None:
            _, y = self.context_and_target(x)
            length = min(y.shape[1], y_pred.shape[1])
            return y[:, :length], y_pred[:, :length]
        return y, y_pred

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        y, y_pred = self._whole_clip_targets(x, y, y_pred)
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        y, y_pred = self._whole_clip_targets(x, y, y_pred)
        return super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _predictions_and_loss(self, data, training):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        context, target = self.context_and_target(x, y)
        predictions = self.rollout(context, int(target.shape[1]), training=training)
        loss = self.compute_loss(
            x=context, y=target, y_pred=predictions, sample_weight=sample_weight, training=training
        )
        return loss, (loss, target, predictions, sample_weight)

    def _training_phases(self, data):
        return [
            gradient_steps.Phase(
                self.optimizer, self.trainable_variables, lambda: self._predictions_and_loss(data, True)
            )
        ]

    def _evaluation_logs(self, data):
        _, terms = self._predictions_and_loss(data, False)
        return self._update_metrics(*terms)
