import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfvidgen.layers import BrightnessTrack
from tfvidgen.layers import CoordinateChannels
from tfvidgen.layers import DepthToSpace
from tfvidgen.layers import LatentPrior
from tfvidgen.layers import LeakyReLU
from tfvidgen.layers import MinibatchStddev
from tfvidgen.layers import Sampling
from tfvidgen.layers import SpaceToDepth
from tfvidgen.layers import TimeDistributed


def test_space_to_depth_folds_blocks_and_inverts():
    video = np.arange(2 * 3 * 4 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 4, 2)
    folded = SpaceToDepth(2)(video).numpy()
    assert folded.shape == (2, 3, 2, 2, 8)
    # The top-left 2x2 block of frame 0, both channels, becomes the first position's channels.
    np.testing.assert_array_equal(folded[0, 0, 0, 0], video[0, 0, :2, :2].reshape(-1))
    np.testing.assert_array_equal(DepthToSpace(2)(folded).numpy(), video)
    assert SpaceToDepth(1)(video) is not None and SpaceToDepth(1)(video).shape == video.shape
    symbolic = SpaceToDepth(4)(keras.Input((None, 64, 64, 1)))
    assert tuple(symbolic.shape) == (None, None, 16, 16, 16)
    for layer in (SpaceToDepth(4), DepthToSpace(4)):
        assert type(layer).from_config(json.loads(json.dumps(layer.get_config()))).patch_size == 4


def test_sampling_statistics_for_fixed_mean_and_log_var():
    z_mean = np.full((20000, 2), [1.0, -2.0], np.float32)
    z_log_var = np.full((20000, 2), [0.0, np.log(0.25)], np.float32)
    z = Sampling(seed=0)(z_mean, z_log_var).numpy()
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.03)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 0.5], rtol=0.03)
    epsilon = (z - z_mean) / np.exp(z_log_var / 2)
    assert abs(np.corrcoef(epsilon.T)[0, 1]) < 0.03  # Independent dimensions.


def test_sampling_seed_reproducibility_and_fresh_noise_per_call():
    mean, log_var = np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32)
    first, second = Sampling(seed=5), Sampling(seed=5)
    a = first(mean, log_var).numpy()
    np.testing.assert_array_equal(a, second(mean, log_var).numpy())
    assert not np.allclose(a, first(mean, log_var).numpy())  # The generator advances.
    assert not np.allclose(a, Sampling(seed=6)(mean, log_var).numpy())


def test_sampling_deterministic_mode_and_config():
    mean = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    log_var = np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(Sampling(deterministic=True)(mean, log_var).numpy(), mean)
    np.testing.assert_array_equal(Sampling()(mean, log_var, deterministic=True).numpy(), mean)
    layer = Sampling(seed=9, deterministic=True, name="z")
    restored = Sampling.from_config(json.loads(json.dumps(layer.get_config())))
    assert (restored.seed, restored.deterministic, restored.name) == (9, True, "z")


def test_sampling_in_compute_dtype_under_mixed_precision():
    layer = Sampling(seed=1, dtype="mixed_float16")
    z = layer(tf.zeros((2, 3), tf.float16), tf.zeros((2, 3), tf.float16))
    assert z.dtype == tf.float16


def test_sampling_inside_a_functional_model_is_saved(tmp_path):
    mean = keras.Input((3,))
    log_var = keras.Input((3,))
    model = keras.Model([mean, log_var], Sampling(seed=2, deterministic=True)(mean, log_var))
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(restored([x, x]).numpy(), x)


def test_sampling_takes_keras_io_list_convention_eagerly_and_functionally(tmp_path):
    mean = np.full((4, 3), 2.0, np.float32)
    log_var = np.full((4, 3), -1.0, np.float32)
    listed = Sampling(seed=3)([mean, log_var]).numpy()  # Raised a TypeError before.
    np.testing.assert_allclose(listed, Sampling(seed=3)(mean, log_var).numpy())
    inputs = [keras.Input((3,)), keras.Input((3,))]
    model = keras.Model(inputs, Sampling(seed=2, deterministic=True)(inputs))
    assert model.output.shape == (None, 3)
    model.save(tmp_path / "listed.keras")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "listed.keras")([mean, log_var]).numpy(), mean)
    with pytest.raises(ValueError, match="Sampling takes `z_mean, z_log_var` or the list"):
        Sampling()(mean)


@pytest.mark.parametrize("patch", [0, -1])
def test_bad_patch_size(patch):
    with pytest.raises(ValueError, match="`patch_size` must be a positive integer"):
        SpaceToDepth(patch)


def test_minibatch_stddev_channel_is_the_mean_spread_of_each_group():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(6, 2, 3, 3, 4)).astype(np.float32)
    features[4:] = features[4]  # The last group (2 examples) is two copies: no spread.
    output = MinibatchStddev(group_size=4)(features).numpy()
    assert output.shape == (6, 2, 3, 3, 5)
    np.testing.assert_array_equal(output[..., :4], features)
    expected = features[:4].std(axis=0).mean()
    np.testing.assert_allclose(output[:4, ..., 4], expected, rtol=1e-4)
    np.testing.assert_allclose(output[4:, ..., 4], 1e-4, rtol=1e-3)  # sqrt of the 1e-8 floor.
    # An example's channel depends on its own group only.
    changed = features.copy()
    changed[4:] = rng.normal(size=(2, 2, 3, 3, 4))
    np.testing.assert_array_equal(MinibatchStddev(4)(changed).numpy()[:4], output[:4])


def test_minibatch_stddev_config_symbolic_shape_and_bad_group():
    layer = MinibatchStddev(group_size=3, name="spread")
    restored = MinibatchStddev.from_config(json.loads(json.dumps(layer.get_config())))
    assert (restored.group_size, restored.name) == (3, "spread")
    assert tuple(layer(keras.Input((2, 4, 4, 8))).shape) == (None, 2, 4, 4, 9)
    with pytest.raises(ValueError, match="`group_size` must be an int >= 2"):
        MinibatchStddev(group_size=1)


def test_latent_prior_is_identity_until_fitted_then_matches_the_latents_moments():
    prior = LatentPrior(3)
    noise = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    np.testing.assert_array_equal(prior(noise).numpy(), noise)
    assert not prior.is_fitted()
    covariance = np.array([[4.0, 1.0, 0.0], [1.0, 1.0, -0.5], [0.0, -0.5, 0.5]])  # Positive definite (determinant 0.5).
    latents = np.random.default_rng(1).multivariate_normal([3.0, -1.0, 0.5], covariance, size=20_000)
    fitted = prior.fit(latents)
    assert prior.is_fitted()
    np.testing.assert_allclose(fitted, np.cov(latents, rowvar=False), atol=2e-5)  # Plus the 1e-5 jitter.
    np.testing.assert_allclose(fitted, covariance, atol=0.1)
    scale = prior.scale_tril.numpy()
    np.testing.assert_allclose(scale @ scale.T, fitted, atol=1e-4)
    drawn = prior(np.random.default_rng(2).normal(size=(20_000, 3)).astype("float32")).numpy()
    np.testing.assert_allclose(drawn.mean(axis=0), latents.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), fitted, atol=0.1)


def test_latent_prior_bad_latents():
    prior = LatentPrior(4)
    with pytest.raises(ValueError, match=r"`latents` must have shape \(count, 4\)"):
        prior.fit(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="needs more than 4 latents"):
        prior.fit(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="must be finite"):
        prior.fit(np.full((10, 4), np.nan))
    assert not prior.is_fitted()


def test_coordinate_channels_hold_each_axis_position_from_minus_one_to_one():
    features = np.random.default_rng(0).random((2, 3, 4, 5, 6)).astype("float32")
    output = CoordinateChannels()(features).numpy()
    assert output.shape == (2, 3, 4, 5, 9)
    np.testing.assert_array_equal(output[..., :6], features)
    np.testing.assert_allclose(output[1, :, 2, 3, 6], [-1.0, 0.0, 1.0])  # Time.
    np.testing.assert_allclose(output[0, 1, :, 0, 7], [-1.0, -1 / 3, 1 / 3, 1.0], atol=1e-6)  # Rows.
    np.testing.assert_allclose(output[0, 2, 1, :, 8], [-1.0, -0.5, 0.0, 0.5, 1.0])  # Columns.
    np.testing.assert_array_equal(CoordinateChannels()(np.ones((1, 1, 2, 2, 1), "float32")).numpy()[..., 1], 0.0)
    symbolic = CoordinateChannels()(keras.Input((3, 4, 5, 6)))
    assert tuple(symbolic.shape) == (None, 3, 4, 5, 9)


def test_brightness_track_is_each_frames_brightness_relative_to_its_clips():
    rng = np.random.default_rng(0)
    clips = rng.random((3, 5, 8, 8, 2)).astype("float32")
    track = keras.ops.convert_to_numpy(BrightnessTrack(epsilon=0.0)(clips))
    frame_means = clips.mean(axis=(2, 3))
    np.testing.assert_allclose(track, frame_means / frame_means.mean(axis=1, keepdims=True) - 1, atol=1e-5)
    assert track.shape == (3, 5, 2) and np.abs(track.sum(axis=1)).max() < 1e-5
    # A steady clip is flat at any level; a frame at half the clip's level reads -0.5 at any level.
    steady = np.ones((2, 4, 8, 8, 1), "float32") * np.array([0.1, 0.8], "float32")[:, None, None, None, None]
    assert np.abs(keras.ops.convert_to_numpy(BrightnessTrack(epsilon=0.0)(steady))).max() < 1e-6
    dipped = steady * np.array([1.25, 1.25, 0.625, 0.875], "float32")[None, :, None, None, None]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(BrightnessTrack(epsilon=0.0)(dipped))[:, :, 0],
        [[0.25, 0.25, -0.375, -0.125]] * 2,
        atol=1e-5,
    )
    assert np.abs(keras.ops.convert_to_numpy(BrightnessTrack()(np.zeros((1, 4, 8, 8, 1), "float32")))).max() == 0
    layer = BrightnessTrack.from_config(BrightnessTrack(epsilon=0.01).get_config())
    assert layer.epsilon == 0.01 and layer.compute_output_shape((None, 4, 8, 8, 3)) == (None, 4, 3)


def test_time_distributed_in_one_call_matches_keras_and_shares_its_weights(tmp_path):
    frames = np.random.default_rng(0).standard_normal((3, 5, 8, 8, 2)).astype(np.float32)
    conv = keras.layers.Conv2D(4, 3, strides=2, padding="same")
    ours, theirs = TimeDistributed(conv), keras.layers.TimeDistributed(conv)
    np.testing.assert_allclose(ours(frames).numpy(), theirs(frames).numpy(), atol=1e-6)
    assert ours(frames).shape == (3, 5, 4, 4, 4)
    symbolic = TimeDistributed(keras.layers.Dense(7))(keras.Input((None, 6)))
    assert tuple(symbolic.shape) == (None, None, 7)

    # A model built with Keras' layer loads its weights into one built with ours (same variable paths) and
    # computes the same; a saved model with ours reloads as ours.
    def model(wrapper):
        inputs = keras.Input((5, 8, 8, 2))
        outputs = wrapper(keras.layers.Conv2D(4, 3, padding="same"))(inputs)
        return keras.Model(inputs, wrapper(keras.layers.Dense(1))(keras.layers.Reshape((5, -1))(outputs)))

    keras.utils.set_random_seed(1)
    reference = model(keras.layers.TimeDistributed)
    reference.save_weights(tmp_path / "keras.weights.h5")
    folded = model(TimeDistributed)
    folded.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_allclose(folded(frames).numpy(), reference(frames).numpy(), atol=1e-5)
    folded.save(tmp_path / "folded.keras")
    reloaded = keras.models.load_model(tmp_path / "folded.keras")
    assert type(reloaded.layers[1]) is TimeDistributed
    np.testing.assert_allclose(reloaded(frames).numpy(), reference(frames).numpy(), atol=1e-5)


def test_time_distributed_spectral_norm_takes_one_power_step_per_call():
    # Keras' TimeDistributed would run the wrapped layer (and its power iteration) once per frame.
    layer = keras.layers.SpectralNormalization(keras.layers.Dense(3))
    wrapped = TimeDistributed(layer)
    wrapped.build((2, 6, 4))
    vector = layer.vector_u.numpy().copy()
    wrapped(np.ones((2, 6, 4), np.float32), training=True)
    stepped = layer.vector_u.numpy()
    kernel = layer.kernel.numpy().reshape(-1, 3)
    expected = vector @ kernel.T @ kernel
    np.testing.assert_allclose(stepped, expected / np.linalg.norm(expected), rtol=1e-4)


def test_leaky_relu_equals_keras_layer_and_round_trips():
    values = np.random.default_rng(0).normal(size=(4, 3, 5)).astype("float32")
    values[0, 0, :3] = [0.0, -0.0, 1e-30]
    ours, theirs = LeakyReLU(0.2, name="act"), keras.layers.LeakyReLU(0.2)
    np.testing.assert_array_equal(ours(values), theirs(values))
    gradients = []
    for layer in (ours, theirs):
        with tf.GradientTape() as tape:
            inputs = tf.constant(values)
            tape.watch(inputs)
            outputs = layer(inputs) * tf.constant(values + 3.0)
        gradients.append(tape.gradient(outputs, inputs))
    np.testing.assert_array_equal(gradients[0], gradients[1])
    np.testing.assert_array_equal(gradients[0], np.where(values > 0, 1.0, np.float32(0.2)) * (values + 3.0))
    restored = LeakyReLU.from_config(json.loads(json.dumps(ours.get_config())))
    assert restored.negative_slope == pytest.approx(0.2) and restored.name == "act"
    with pytest.raises(ValueError, match="`negative_slope` must be in \\[0, 1\\].*Received: negative_slope=1.5"):
        LeakyReLU(1.5)
