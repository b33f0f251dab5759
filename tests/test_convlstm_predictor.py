import keras
import numpy as np
import pytest
import tensorflow as tf

import harness
from tfvidgen import schedules
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models.convlstm import ConvLSTMBackbone
from tfvidgen.models.convlstm import convlstm_rollout


@pytest.fixture
def model():
    keras.utils.set_random_seed(1)
    model = ConvLSTMPredictor.from_preset("tiny")
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def _frames(batch=2, frames=5, seed=0):
    return np.random.default_rng(seed).random((batch, frames, 16, 16, 1)).astype("float32")


def test_presets_build_with_expected_sizes():
    assert ConvLSTMPredictor.from_preset("tiny").count_params() == 8164
    cpu_small = ConvLSTMPredictor.from_preset("cpu_small")
    assert cpu_small.frame_shape == (64, 64, 1) and cpu_small.backbone.patch_size == 4
    openstl = ConvLSTMPredictor.from_preset("openstl_convlstm_s")
    assert openstl.backbone.filters == [128] * 4 and openstl.backbone.kernel_sizes == [5] * 4
    assert isinstance(openstl.teacher_forcing, schedules.LinearSchedule)
    # 4 ConvLSTM layers (5x5, 128 filters, 16 input channels for the first) + a 1x1 head.
    layer_params = lambda inputs: 25 * (inputs + 128) * 512 + 512  # noqa: E731
    assert openstl.count_params() == layer_params(16) + 3 * layer_params(128) + 128 * 16 + 16
    overridden = ConvLSTMPredictor.from_preset("tiny", filters=(4,))
    assert overridden.backbone.filters == [4]
    with pytest.raises(ValueError, match="Unknown ConvLSTMPredictor preset `preset='huge'`"):
        ConvLSTMPredictor.from_preset("huge")


def test_config_round_trip_with_schedule():
    model = ConvLSTMPredictor.from_preset("tiny", teacher_forcing=schedules.InverseSigmoidSchedule(k=10.0))
    restored = harness.assert_config_round_trip(model)
    assert float(restored.teacher_forcing(100)) == pytest.approx(float(model.teacher_forcing(100)))


def test_causal_prediction_of_frame_t_plus_1_ignores_later_frames(model):
    frames = _frames(frames=6)
    changed = frames.copy()
    changed[:, 3] = 1.0 - changed[:, 3]  # Change input frame t + 1 = 3.
    before, after = model(frames).numpy(), model(changed).numpy()
    # Outputs 0..2 predict frames 1..3 from frames <= 2: unchanged.
    np.testing.assert_array_equal(before[:, :3], after[:, :3])
    # Output 3 (the prediction of frame 4) sees frame 3, so it must change.
    assert np.abs(before[:, 3] - after[:, 3]).max() > 1e-4


def test_step_by_step_unroll_equals_the_functional_pass(model):
    frames = tf.constant(_frames())
    np.testing.assert_allclose(
        convlstm_rollout.unroll(model.backbone, frames, 5, 5).numpy(), model(frames).numpy(), atol=1e-6
    )


def test_rollout_feeds_predictions_back(model):
    context = _frames(frames=3)
    future = model.predict_future(context, 3).numpy()
    # Frame 1 of the rollout is the functional prediction after the context.
    np.testing.assert_allclose(future[:, 0], model(context).numpy()[:, -1], atol=1e-6)
    # Frame 2 is the prediction after the context followed by rollout frame 1.
    extended = np.concatenate([context, future[:, :1]], axis=1)
    np.testing.assert_allclose(future[:, 1], model(extended).numpy()[:, -1], atol=1e-5)
    # Any context length works with the same traced function.
    assert model.predict_future(_frames(frames=1), 2).shape == (2, 2, 16, 16, 1)


def test_scheduled_sampling_mask_switches_between_truth_and_predictions(model):
    clip = tf.constant(_frames(frames=6))
    all_truth = convlstm_rollout.unroll(model.backbone, clip, 2, 5, truth_mask=tf.ones((2, 3), bool)).numpy()
    np.testing.assert_allclose(all_truth, model(clip[:, :-1]).numpy(), atol=1e-6)
    free_running = convlstm_rollout.unroll(model.backbone, clip, 2, 5, truth_mask=tf.zeros((2, 3), bool)).numpy()
    np.testing.assert_allclose(free_running[:, 1:], model.predict_future(clip[:, :2], 4).numpy(), atol=1e-6)


def test_fit_lowers_the_loss_with_scheduled_sampling():
    keras.utils.set_random_seed(2)
    model = ConvLSTMPredictor.from_preset("tiny", teacher_forcing=schedules.LinearSchedule(1.0, 0.0, steps=8), seed=3)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    harness.fit_and_check_loss_falls(model, harness.tiny_pairs(), epochs=5, factor=0.85)
    assert float(model.teacher_forcing(model.optimizer.iterations)) == 0.0


@pytest.mark.parametrize("loss", ["bce", "l1_l2"])
def test_selectable_losses_train(loss):
    keras.utils.set_random_seed(0)
    model = ConvLSTMPredictor.from_preset("tiny")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
    harness.fit_and_check_loss_falls(model, harness.tiny_pairs(), epochs=4, factor=0.95)


def test_bad_arguments_and_inputs(model):
    with pytest.raises(ValueError, match="`patch_size` \\(3\\) must divide the frame height and width"):
        ConvLSTMBackbone(frame_shape=(16, 16, 1), patch_size=3)
    with pytest.raises(ValueError, match="`frame_shape` must be \\(height, width, channels\\)"):
        ConvLSTMBackbone(frame_shape=(16, 16))
    with pytest.raises(ValueError, match="`kernel_sizes` must have 2 entries"):
        ConvLSTMPredictor.from_preset("tiny", filters=(4, 4), kernel_sizes=(3, 3, 3))
    with pytest.raises(ValueError, match="`teacher_forcing` must be in \\[0, 1\\]"):
        ConvLSTMPredictor(teacher_forcing=1.5)
    # The inputs of predict_future and fit: test_bad_inputs in tests/test_harness_predictors.py.
