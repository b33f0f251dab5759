import keras
import numpy as np
import pytest
import tensorflow as tf

import harness
from tfvidgen.metrics import evaluate_predictions
from tfvidgen.models import SimVPBackbone
from tfvidgen.models import SimVPPredictor


@pytest.fixture
def model():
    keras.utils.set_random_seed(1)
    model = SimVPPredictor.from_preset("tiny")
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def _frames(batch=2, frames=5, seed=0):
    return np.random.default_rng(seed).random((batch, frames, 16, 16, 1)).astype("float32")


def test_presets_build_with_expected_sizes():
    assert SimVPPredictor.from_preset("tiny").count_params() == 6764
    cpu_small = SimVPPredictor.from_preset("cpu_small")
    assert cpu_small.count_params() == 2_376_996
    assert (cpu_small.context_frames, cpu_small.future_frames, cpu_small.frame_shape) == (10, 10, (64, 64, 1))
    # 4 ConvNeXt blocks of 256 channels: depthwise 7x7, LayerNorm, 256 -> 1024 -> 256.
    block = 49 * 256 + 256 + 2 * 256 + 256 * 1024 + 1024 + 1024 * 256 + 256
    translator = 4 * block + (10 * 32 * 256 + 256) + (256 * 10 * 32 + 10 * 32)
    assert translator < cpu_small.count_params() < translator + 60_000  # The rest: small per-frame convolutions.
    with pytest.raises(ValueError, match="Unknown SimVPPredictor preset `preset='huge'`"):
        SimVPPredictor.from_preset("huge")


def test_config_round_trip():
    harness.assert_config_round_trip(SimVPPredictor.from_preset("tiny", future_frames=3, spatial_strides=(2, 1)))


def test_call_maps_the_last_context_frames_to_a_block_of_future_frames(model):
    clips = _frames(frames=5)
    block = np.asarray(model(clips[:, -2:]))
    assert block.shape == (2, 2, 16, 16, 1) and 0 <= block.min() and block.max() <= 1
    # A longer context: only its last context_frames count.
    np.testing.assert_allclose(np.asarray(model(clips)), block, atol=1e-6)
    # A shorter one is padded in front with its first frame.
    padded = np.concatenate([clips[:, -1:], clips[:, -1:]], axis=1)
    np.testing.assert_allclose(np.asarray(model(clips[:, -1:])), np.asarray(model(padded)), atol=1e-6)


def test_rollout_feeds_each_block_back_as_context(model):
    context = _frames(frames=2)
    future = np.asarray(model.predict_future(context, 5))
    first = np.asarray(model(context))
    second = np.asarray(model(first))  # The first block is the whole context of the second (2 -> 2 frames).
    third = np.asarray(model(second))
    np.testing.assert_allclose(future, np.concatenate([first, second, third[:, :1]], axis=1), atol=1e-5)


@pytest.mark.parametrize("horizon", [0, 1, 2, 7])
def test_rollout_shapes_and_the_in_graph_loop_with_a_tensor_horizon(model, horizon):
    context = _frames(frames=3)
    future = np.asarray(model.predict_future(context, horizon))
    assert future.shape == (2, horizon, 16, 16, 1)
    in_graph = tf.function(lambda c, n: model.rollout(c, n))(tf.constant(context), tf.constant(horizon))
    np.testing.assert_allclose(in_graph.numpy(), future, atol=1e-6)


def test_targets_longer_than_a_block_train_through_the_rollout():
    keras.utils.set_random_seed(1)
    model = SimVPPredictor.from_preset("tiny", future_frames=1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    # 2 context frames, 2 target frames: two blocks of 1, the second from the first's prediction.
    harness.fit_and_check_loss_falls(model, harness.tiny_pairs(), epochs=5, factor=0.85)
    pairs = harness.tiny_pairs(num_clips=4)
    scores = model.evaluate(pairs, verbose=0, return_dict=True)
    reference = evaluate_predictions(model.predict_future, pairs, baselines=False)["model"]
    assert scores["frame_mse"] == pytest.approx(reference["mse"], rel=1e-4)


def test_default_loss_is_l1_plus_l2(model):
    assert type(model.loss).__name__ == "L1L2" and SimVPPredictor.default_loss == "l1_l2"
    pairs = harness.tiny_pairs(num_clips=8)
    scores = model.evaluate(pairs, return_dict=True, verbose=0)
    reference = evaluate_predictions(model.predict_future, pairs, baselines=False)["model"]
    # Mean absolute plus mean squared error per pixel: the per-frame sums divided by 16x16 pixels.
    assert scores["loss"] == pytest.approx((reference["mae"] + reference["mse"]) / 256, rel=1e-4)


def test_bad_arguments_and_inputs(model):
    with pytest.raises(ValueError, match=r"must divide by patch_size \* 2\*\*\(number of 2s in spatial_strides\) = 8"):
        SimVPPredictor.from_preset("tiny", frame_shape=(20, 20, 1), patch_size=2, spatial_strides=(1, 2, 2))
    with pytest.raises(ValueError, match=r"`spatial_strides` must hold 1s and 2s. Received: spatial_strides=\[1, 3\]"):
        SimVPBackbone(frame_shape=(16, 16, 1), spatial_strides=(1, 3))
    with pytest.raises(ValueError, match="`future_frames` must be a positive integer"):
        SimVPBackbone(frame_shape=(16, 16, 1), future_frames=0)
    # The inputs of predict_future and fit: test_bad_inputs in tests/test_harness_predictors.py.
