"""The frame predictors' common tests (every `FramePredictor` of `tfvidgen.models.FAMILIES`), in-process under
the backend `KERAS_BACKEND` selects (CI: TensorFlow, then JAX). Family-specific tests stay in their files."""

import json

import keras
import numpy as np
import pytest

import harness
from harness import roles
from tfvidgen import metrics
from tfvidgen.metrics import evaluate_predictions
from tfvidgen.models import FAMILIES

PREDICTORS = roles.families("predictor")


def _frames(batch=2, frames=5, seed=0):
    return np.random.default_rng(seed).random((batch, frames, 16, 16, 1)).astype("float32")


def _model(family):
    keras.utils.set_random_seed(1)
    model = FAMILIES[family].from_preset("tiny")
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def test_the_registry_has_the_predictors():
    assert {"convlstm", "simvp"} <= set(PREDICTORS)


@pytest.mark.backends
def test_every_registered_family_has_one_role_harness():
    """A family the role harness cannot place (no role class) fails here, not silently untested."""
    by_role = {role: roles.families(role) for role in roles.ROLES}
    assert sorted(sum(by_role.values(), [])) == sorted(FAMILIES)
    assert all(by_role.values()), by_role  # Each role has at least one family.
    assert "interpolator" in by_role["interpolator"]


@pytest.mark.backends
@pytest.mark.parametrize("family", PREDICTORS)
def test_fit_save_reload_and_rollout_on_whole_numpy_clips(family, tmp_path):
    """The cross-backend harness: loss falls, config and `.keras` round trips, a reproducible rollout."""
    model, history = roles.trained(family)
    assert history["loss"][-1] < history["loss"][0], history["loss"]  # Falls on a fixed seed.
    config = json.loads(json.dumps(model.get_config()))
    assert json.loads(json.dumps(type(model).from_config(config).get_config())) == config
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    first = roles.output(model)
    assert first.shape == (2, 3, 16, 16, 1)
    np.testing.assert_array_equal(roles.output(model), first)  # Reproducible.
    np.testing.assert_array_equal(roles.output(restored), first)  # Equal to the last bit after reloading.
    assert roles.optimizer_steps(restored) == roles.optimizer_steps(model) == [6]  # 3 epochs x 2 batches of 8.


@pytest.mark.backends
@pytest.mark.parametrize("family", PREDICTORS)
def test_config_round_trip(family):
    harness.assert_config_round_trip(FAMILIES[family].from_preset("tiny"))


@pytest.mark.backends
@pytest.mark.parametrize("family", PREDICTORS)
def test_unknown_preset_is_named(family):
    cls = FAMILIES[family]
    with pytest.raises(ValueError, match=f"Unknown {cls.__name__} preset `preset='huge'`"):
        cls.from_preset("huge")


@pytest.mark.parametrize("horizon", [0, 1, 2, 7, 9])
@pytest.mark.parametrize("family", PREDICTORS)
def test_rollout_shapes(family, horizon):
    model = _model(family)
    assert tuple(model.predict_future(_frames(frames=3), horizon).shape) == (2, horizon, 16, 16, 1)


@pytest.mark.parametrize("family", PREDICTORS)
def test_fit_lowers_the_loss(family):
    harness.fit_and_check_loss_falls(_model(family), harness.tiny_pairs(), epochs=5, factor=0.85)


@pytest.mark.parametrize("family", PREDICTORS)
def test_whole_clips_split_at_context_frames_like_pairs(family):
    # The same clips, whole or as (context, target) pairs split at context_frames=2.
    histories, scores = [], []
    for dataset in (harness.tiny_clips(), harness.tiny_pairs(context_frames=2)):
        model = _model(family)
        histories.append(model.fit(dataset, epochs=1, verbose=0).history)
        scores.append(model.evaluate(dataset, verbose=0, return_dict=True))
    assert np.isfinite(histories[0]["loss"][0])
    for name in ("loss", "frame_mse", "psnr"):
        np.testing.assert_allclose(histories[0][name], histories[1][name], rtol=1e-5)
        np.testing.assert_allclose(scores[0][name], scores[1][name], rtol=1e-5)


@pytest.mark.parametrize("family", PREDICTORS)
def test_evaluate_scores_the_rollout(family):
    model = _model(family)
    pairs = harness.tiny_pairs(num_clips=8)
    model.compile(loss="mse", metrics=[metrics.FrameMSE(), metrics.SSIM()])
    scores = model.evaluate(pairs, return_dict=True, verbose=0)
    reference = evaluate_predictions(model.predict_future, pairs, baselines=False)["model"]
    assert scores["frame_mse"] == pytest.approx(reference["mse"], rel=1e-4)
    assert scores["ssim"] == pytest.approx(reference["ssim"], rel=1e-3)
    assert scores["loss"] == pytest.approx(reference["mse"] / 256, rel=1e-4)  # MSE loss = mean, not sum.


@pytest.mark.parametrize("family", PREDICTORS)
def test_keras_round_trip_keeps_outputs_and_optimizer_state_and_preset_directory(family, tmp_path):
    import tensorflow as tf

    model = _model(family)
    model.fit(harness.tiny_pairs(num_clips=8), epochs=1, verbose=0)
    context = _frames(frames=3)
    restored = harness.assert_keras_round_trip(model, lambda m: m.predict_future(context, 4), tmp_path)
    assert roles.optimizer_steps(restored) == [2]
    # `predict` is the model's call: one output per input frame (ConvLSTM) or a block (SimVP).
    expected = (4,) + tuple(np.asarray(model(_frames(frames=3))).shape[1:])
    harness.assert_predict_on_dataset(restored, tf.data.Dataset.from_tensor_slices(_frames(4, 3)).batch(2), expected)
    preset = type(model).from_preset(model.save_to_preset(tmp_path / "preset"))
    np.testing.assert_allclose(np.asarray(preset(context)), np.asarray(model(context)), atol=1e-6)


@pytest.mark.backends
@pytest.mark.parametrize("family", PREDICTORS)
def test_bad_inputs(family):
    model = _model(family)
    with pytest.raises(
        ValueError, match=r"`context` must have shape \(batch, frames >= 1, 16, 16, 1\).*\(2, 3, 16, 16, 3\)"
    ):
        model.predict_future(np.zeros((2, 3, 16, 16, 3), "float32"), 2)
    with pytest.raises(ValueError, match="`horizon` must be a non-negative integer"):
        model.predict_future(_frames(frames=2), -1)
    # Before, 2**32 + 3 wrapped to an int32 3 and returned 3 frames.
    with pytest.raises(ValueError, match=r"`horizon` must be at most 100,000. Received: horizon=4294967299"):
        model.predict_future(_frames(frames=2), 2**32 + 3)
    with pytest.raises(TypeError, match=r"`horizon` must be a non-negative integer. Received: horizon=2.5"):
        model.predict_future(_frames(frames=2), 2.5)
    with pytest.raises(
        ValueError, match=f"Whole clips given to `fit` need more than context_frames={model.context_frames} frames"
    ):
        model.fit(_frames(frames=model.context_frames), epochs=1, verbose=0)
