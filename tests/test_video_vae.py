import math

import keras
import numpy as np
import pytest

import harness
from tfvidgen import losses
from tfvidgen import schedules
from tfvidgen.models import VideoDecoder
from tfvidgen.models import VideoEncoder
from tfvidgen.models import VideoVAE


@pytest.fixture
def vae():
    keras.utils.set_random_seed(0)
    model = VideoVAE.from_preset("tiny", seed=1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def test_networks_and_configs():
    encoder = VideoEncoder((4, 16, 16, 1), latent_dim=8, filters=(8, 16))
    decoder = VideoDecoder((4, 16, 16, 1), latent_dim=8, filters=(16, 8))
    z_mean, z_log_var = encoder(np.zeros((2, 4, 16, 16, 1), "float32"))
    assert z_mean.shape == z_log_var.shape == (2, 8)
    clips = decoder(z_mean).numpy()
    assert clips.shape == (2, 4, 16, 16, 1) and 0 <= clips.min() and clips.max() <= 1
    for model in (encoder, decoder):
        harness.assert_config_round_trip(model)
    for name in VideoVAE.presets:
        assert VideoVAE.from_preset(name).decoder.output.shape[1:] == VideoVAE.from_preset(name).clip_shape


def test_log_variance_is_soft_bounded_so_the_kl_stays_finite():
    encoder = VideoEncoder((4, 16, 16, 1), latent_dim=8, filters=(8, 16))
    raw = encoder.get_layer("z_log_var_raw")
    kernel, bias = raw.get_weights()
    raw.set_weights([np.full_like(kernel, 50.0), np.zeros_like(bias)])  # Raw log-variance in the thousands.
    clips = np.random.default_rng(0).random((2, 4, 16, 16, 1)).astype("float32")
    z_mean, z_log_var = [t.numpy() for t in encoder(clips)]
    assert np.all(np.abs(z_log_var) <= 15.0) and z_log_var.min() > 14.9  # tanh saturates at the bound.
    assert np.all(np.isfinite(losses.kl_divergence(z_mean, z_log_var).numpy()))
    raw.set_weights([np.zeros_like(kernel), np.full_like(bias, -2.0)])  # The usual range is left (nearly) as is.
    np.testing.assert_allclose(encoder(clips)[1].numpy(), 15.0 * np.tanh(-2.0 / 15.0), rtol=1e-6)


def test_config_round_trip_keeps_the_schedule():
    vae = VideoVAE.from_preset("tiny", beta=schedules.CyclicalSchedule(period=10), free_bits=0.25)
    restored = harness.assert_config_round_trip(vae)
    assert isinstance(restored.beta, schedules.CyclicalSchedule) and restored.free_bits == 0.25


def test_elbo_terms_match_the_loss_functions(vae):
    clips = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    vae.sampling.deterministic = True  # Decode the mean so both sides see the same z.
    terms = {name: float(value) for name, value in vae._terms(clips, training=False).items()}
    z_mean, z_log_var = vae.encode(clips)
    reconstruction = vae.decode(z_mean)
    expected_reconstruction = float(np.mean(losses.reconstruction_loss(clips, reconstruction, "bce")))
    expected_kl = float(np.mean(losses.kl_divergence(z_mean, z_log_var)))
    assert terms["reconstruction_loss"] == pytest.approx(expected_reconstruction, rel=1e-4)
    assert terms["kl_loss"] == pytest.approx(expected_kl, rel=1e-4)
    assert terms["nelbo"] == pytest.approx(expected_reconstruction + expected_kl, rel=1e-4)
    assert terms["bits_per_dim"] == pytest.approx(terms["nelbo"] / (4 * 16 * 16 * math.log(2)), rel=1e-5)


def test_loss_is_reconstruction_plus_beta_times_free_bits_kl():
    keras.utils.set_random_seed(0)
    vae = VideoVAE.from_preset("tiny", beta=0.5, free_bits=0.02, seed=1)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    clips = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    vae.sampling.deterministic = True
    terms = {name: float(value) for name, value in vae._terms(clips, training=False).items()}
    z_mean, z_log_var = (np.asarray(value, np.float64) for value in vae.encode(clips))
    kl_per_dimension = (0.5 * (z_mean**2 + np.exp(z_log_var) - 1 - z_log_var)).mean(axis=0)
    assert (kl_per_dimension < 0.02).any() and (kl_per_dimension > 0.02).any()  # The clamp matters here.
    expected_kl_objective = np.maximum(kl_per_dimension, 0.02).sum()
    assert terms["kl_loss"] == pytest.approx(kl_per_dimension.sum(), rel=1e-4)
    assert terms["beta"] == 0.5
    assert terms["loss"] == pytest.approx(terms["reconstruction_loss"] + 0.5 * expected_kl_objective, rel=1e-4)


def test_training_lowers_the_loss_on_a_fixed_seed(vae):
    history = harness.fit_and_check_loss_falls(
        vae, harness.tiny_clips(num_clips=32, batch_size=8), epochs=4, factor=0.8
    )
    assert history["bits_per_dim"][-1] < history["bits_per_dim"][0]


def test_kl_annealing_schedule_sets_beta_per_step():
    keras.utils.set_random_seed(0)
    vae = VideoVAE.from_preset("tiny", beta=schedules.LinearSchedule(0.0, 1.0, steps=4))
    vae.compile()
    history = vae.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=3, verbose=0).history
    # Steps 0,1 | 2,3 | 4,5: mean beta per epoch 0.125, 0.625, 1.0.
    np.testing.assert_allclose(history["beta"], [0.125, 0.625, 1.0], atol=1e-6)
    assert history["loss"][0] < history["nelbo"][0]  # Down-weighted KL early on.


def test_gaussian_reconstruction_and_free_bits_train():
    keras.utils.set_random_seed(0)
    vae = VideoVAE.from_preset("tiny", reconstruction="mse", free_bits=0.5)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = vae.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=2, verbose=0).history
    constant = 0.5 * 4 * 16 * 16 * math.log(2 * math.pi)
    assert history["nelbo"][0] == pytest.approx(
        history["reconstruction_loss"][0] + history["kl_loss"][0] + constant, rel=1e-4
    )
    assert history["loss"][0] >= history["reconstruction_loss"][0] + 8 * 0.5 - 1e-3  # KL clamped at 8 x 0.5 nats.


def test_api_shapes_and_seed_reproducibility(vae):
    clips = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    z_mean, z_log_var = vae.encode(clips)
    assert z_mean.shape == z_log_var.shape == (8, 8)
    assert vae.decode(z_mean).shape == vae.reconstruct(clips).shape == (8, 4, 16, 16, 1)
    np.testing.assert_array_equal(vae.reconstruct(clips).numpy(), vae(clips).numpy())
    assert not np.allclose(vae.reconstruct(clips, deterministic=False).numpy(), vae.reconstruct(clips).numpy())
    np.testing.assert_array_equal(vae.sample(3, seed=4).numpy(), vae.sample(3, seed=4).numpy())
    assert np.abs(vae.sample(3, seed=4).numpy() - vae.sample(3, seed=5).numpy()).max() > 1e-5
    path = vae.interpolate(clips[0], clips[1], steps=4).numpy()
    assert path.shape == (4, 4, 16, 16, 1)
    np.testing.assert_allclose(path[0], vae.reconstruct(clips[:1]).numpy()[0], atol=1e-5)
    with pytest.raises(ValueError, match=r"`clips` must have shape \(batch, 4, 16, 16, 1\)"):
        vae.encode(np.zeros((2, 4, 8, 8, 1)))
    with pytest.raises(ValueError, match="`num_samples` must be a positive integer"):
        vae.sample(0)


def test_keras_round_trip_keeps_optimizer_state(vae, tmp_path):
    vae.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=1, verbose=0)
    clips = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    restored = harness.assert_keras_round_trip(vae, lambda model: model.reconstruct(clips), tmp_path)
    assert int(restored.optimizer.iterations) == 2
    np.testing.assert_array_equal(restored.sample(2, seed=1).numpy(), vae.sample(2, seed=1).numpy())


def test_bad_arguments():
    with pytest.raises(ValueError, match="`reconstruction` must be one of 'bce', 'mse'"):
        VideoVAE.from_preset("tiny", reconstruction="l1")
    with pytest.raises(ValueError, match=r"`beta` must be a finite non-negative number \(>= 0\)"):
        VideoVAE.from_preset("tiny", beta=-1.0)
    with pytest.raises(TypeError, match="`beta` must be a non-negative number. Received: beta='1'"):
        VideoVAE.from_preset("tiny", beta="1")
    with pytest.raises(ValueError, match=r"`free_bits` must be a finite non-negative number \(>= 0\)"):
        VideoVAE.from_preset("tiny", free_bits=float("inf"))
    with pytest.raises(TypeError, match="`free_bits` must be a non-negative number. Received: free_bits=None"):
        VideoVAE.from_preset("tiny", free_bits=None)
    with pytest.raises(ValueError, match=r"height and width \(16x10\) must divide by 2\*\*2"):
        VideoVAE.from_preset("tiny", clip_shape=(4, 16, 10, 1), encoder_filters=(8, 8), decoder_filters=(8, 8))


def test_resize_upsampling_decoder_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    vae = VideoVAE.from_preset("tiny", decoder_upsampling="resize", seed=1)
    assert vae.decoder.get_layer("logits_repeat") is not None  # Repeat, then a plain Conv3D: no transposed kernels.
    assert not any(isinstance(layer, keras.layers.Conv3DTranspose) for layer in vae.decoder.layers)
    vae.compile()
    history = vae.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    restored = harness.assert_keras_round_trip(vae, lambda model: model.sample(2, seed=3), tmp_path)
    assert restored.decoder.upsampling == "resize"
    with pytest.raises(ValueError, match="`upsampling` must be one of"):
        VideoVAE.from_preset("tiny", decoder_upsampling="bilinear")


def test_fitted_latent_prior_moves_samples_to_the_posterior_means_and_is_saved(vae, tmp_path):
    clips = harness.tiny_clips(num_clips=48, batch_size=8)
    vae.fit(clips, epochs=1, verbose=0)
    array = np.concatenate([batch.numpy() for batch in clips])
    before = vae.sample(4, seed=2).numpy()
    noise = vae.sample_noise(4, seed=2)
    np.testing.assert_array_equal(vae.sample_latents(4, seed=2).numpy(), noise.numpy())  # N(0, I) before fitting.
    assert vae.fit_latent_prior(clips, max_clips=40) == 40  # Batches of a dataset, stopped at max_clips.
    means = vae.encode(array[:40])[0].numpy()
    np.testing.assert_allclose(vae.latent_prior.mean.numpy(), means.mean(axis=0), atol=1e-5)
    scale = vae.latent_prior.scale_tril.numpy()
    np.testing.assert_allclose(scale @ scale.T, np.cov(means, rowvar=False), atol=1e-4)
    np.testing.assert_allclose(
        vae.sample_latents(4, seed=2).numpy(), means.mean(axis=0) + noise.numpy() @ scale.T, atol=1e-5
    )
    assert np.abs(vae.sample(4, seed=2).numpy() - before).max() > 1e-4
    assert vae.fit_latent_prior(array) == 48  # An array, in batches of 64.
    restored = harness.assert_keras_round_trip(vae, lambda model: model.sample(3, seed=5), tmp_path)
    assert restored.latent_prior.is_fitted()
    with pytest.raises(ValueError, match="needs more than 8 latents"):
        vae.fit_latent_prior(array[:8])
    with pytest.raises(ValueError, match=r"`clips` must have shape \(batch, 4, 16, 16, 1\)"):
        vae.fit_latent_prior(np.zeros((20, 4, 8, 8, 1), "float32"))


def test_weights_saved_before_the_latent_prior_load_as_n01(vae, tmp_path):
    vae.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=1, verbose=0)
    path = str(tmp_path / "old.weights.h5")
    vae.save_weights(path)
    import h5py

    with h5py.File(path, "a") as file:  # What a VAE saved before LatentPrior existed holds.
        del file["latent_prior"]
    old = VideoVAE.from_preset("tiny", seed=1)
    old.load_weights(path)
    assert not old.latent_prior.is_fitted()
    np.testing.assert_array_equal(old.sample(2, seed=1).numpy(), vae.sample(2, seed=1).numpy())


def test_coordinate_channels_decoder_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    vae = VideoVAE.from_preset("tiny", decoder_coordinates=True, seed=1)
    coordinates = [layer.name for layer in vae.decoder.layers if "coordinates" in layer.name]
    assert coordinates == ["decoder_deconv_0_coordinates", "logits_coordinates"]  # Before every upsampling.
    assert vae.decoder.get_layer("logits").input.shape[-1] == 8 + 3
    vae.compile()
    history = vae.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    restored = harness.assert_keras_round_trip(vae, lambda model: model.sample(2, seed=3), tmp_path)
    assert restored.decoder.coordinates and VideoVAE.flat_config(restored.get_config())["decoder_coordinates"]


def test_time_halvings_keep_a_time_axis_in_the_bottleneck_and_mirror_it():
    from tfvidgen.layers import blocks

    assert blocks.strides_for((16, 64, 64, 1), 4) == ([(2, 2, 2)] * 4, (1, 4, 4))
    assert blocks.strides_for((16, 64, 64, 1), 4, time_halvings=2) == ([(2, 2, 2)] * 2 + [(1, 2, 2)] * 2, (4, 4, 4))
    assert blocks.strides_for((4, 16, 16, 1), 2, time_halvings=9) == ([(2, 2, 2)] * 2, (1, 4, 4))  # Frames limit it.
    assert blocks.strides_for((16, 64, 64, 1), 4, time_halvings=np.int64(1))[1] == (8, 4, 4)
    with pytest.raises(ValueError, match=r"`time_halvings` must be a non-negative integer \(>= 0\). Received: time_h"):
        blocks.strides_for((16, 64, 64, 1), 4, time_halvings=-1)
    for bad in (1.5, True, "2"):
        with pytest.raises(TypeError, match="`time_halvings` must be a non-negative integer. Received: time_halvings="):
            blocks.strides_for((16, 64, 64, 1), 4, time_halvings=bad)
    keras.utils.set_random_seed(0)
    vae = VideoVAE.from_preset("tiny", clip_shape=(8, 16, 16, 1), time_halvings=1)
    assert vae.encoder.get_layer("flatten").input.shape == (None, 4, 4, 4, 16)  # 8 frames halved once, not twice.
    assert vae.decoder.get_layer("decoder_project_reshape").output.shape == (None, 4, 4, 4, 16)
    strides = [layer.strides for layer in vae.decoder.layers if isinstance(layer, keras.layers.Conv3DTranspose)]
    assert strides == [(1, 2, 2), (2, 2, 2)]  # Time doubled last, mirroring the encoder's first halving.
    vae.compile()
    clips = np.random.default_rng(0).random((16, 8, 16, 16, 1)).astype("float32")
    history = vae.fit(clips, batch_size=8, epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert vae.sample(2, seed=3).shape == (2, 8, 16, 16, 1)
    restored = harness.assert_config_round_trip(vae)
    assert restored.encoder.time_halvings == restored.decoder.time_halvings == 1
