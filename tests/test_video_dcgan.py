import keras
import numpy as np
import pytest
import tensorflow as tf

import harness
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoDiscriminator
from tfvidgen.models import VideoGenerator


@pytest.fixture
def gan():
    keras.utils.set_random_seed(0)
    model = VideoDCGAN.from_preset("tiny", seed=1)
    model.compile()
    return model


def test_networks_shapes_ranges_and_configs():
    generator = VideoGenerator((4, 16, 16, 1), latent_dim=8, filters=(16, 8))
    clips = generator(np.random.default_rng(0).normal(size=(3, 8)).astype("float32")).numpy()
    assert clips.shape == (3, 4, 16, 16, 1) and 0.0 <= clips.min() and clips.max() <= 1.0
    two_stream = VideoGenerator((8, 16, 16, 3), latent_dim=8, filters=(16, 8), two_stream=True)
    assert two_stream(np.zeros((2, 8), "float32")).shape == (2, 8, 16, 16, 3)
    assert two_stream.get_layer("mask").output.shape == (None, 8, 16, 16, 1)
    discriminator = VideoDiscriminator((4, 16, 16, 1), filters=(8, 16), spectral_norm=True)
    assert discriminator(clips).shape == (3, 1)
    spread = VideoDiscriminator((4, 16, 16, 1), filters=(8, 16), minibatch_stddev_group=2)
    assert spread(clips).shape == (3, 1) and spread.get_layer("minibatch_stddev").output.shape == (None, 1, 4, 4, 17)
    for model in (generator, two_stream, discriminator, spread):
        harness.assert_config_round_trip(model)


def test_two_stream_background_is_static_where_the_mask_is_zero():
    generator = VideoGenerator((4, 16, 16, 1), latent_dim=8, filters=(16, 8), two_stream=True)
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    parts = keras.Model(
        generator.input, [generator.get_layer(name).output for name in ("mask", "foreground", "background", "clips")]
    )
    mask, foreground, background, clips = [tensor.numpy() for tensor in parts(z)]
    np.testing.assert_allclose(clips, mask * foreground + (1 - mask) * background[:, None], atol=1e-6)
    assert background.shape == (2, 16, 16, 1)
    # With the mask at zero every frame is the one static background image.
    static = generator.get_layer("clips")([np.zeros_like(mask), foreground, background]).numpy()
    assert np.abs(foreground - background[:, None]).max() > 0.01  # The streams differ, so this can fail.
    np.testing.assert_allclose(static, np.broadcast_to(background[:, None], static.shape), atol=1e-6)


def test_presets_build():
    for name in VideoDCGAN.presets:
        gan = VideoDCGAN.from_preset(name)
        assert gan.generator.output.shape[1:] == gan.clip_shape
    assert VideoDCGAN.from_preset("gpu_64x64x3").clip_shape == (16, 64, 64, 3)
    with pytest.raises(ValueError, match="Unknown VideoDCGAN preset"):
        VideoDCGAN.from_preset("big")


def test_config_round_trip(gan):
    restored = harness.assert_config_round_trip(gan)
    assert restored.latent_dim == 16 and restored.generator.count_params() == gan.generator.count_params()


def test_training_steps_change_both_networks_with_finite_losses(gan):
    generator_before = [v.numpy().copy() for v in gan.generator.trainable_variables]
    discriminator_before = [v.numpy().copy() for v in gan.discriminator.trainable_variables]
    history = gan.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=2, verbose=0).history
    for key in ("d_loss", "g_loss", "real_score", "fake_score"):
        assert np.all(np.isfinite(history[key])), key
    for before, variables in ((generator_before, gan.generator), (discriminator_before, gan.discriminator)):
        changes = [np.abs(b - v.numpy()).max() for b, v in zip(before, variables.trainable_variables)]
        assert min(changes) > 0.0, "every trainable variable must move"
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 4


def test_discriminator_learns_to_separate_on_a_fixed_seed(gan):
    # Early GAN training on a fixed seed: D's loss falls below chance (2 log 2).
    history = gan.fit(harness.tiny_clips(num_clips=32, batch_size=8), epochs=4, verbose=0).history
    assert history["d_loss"][-1] < history["d_loss"][0] and history["d_loss"][-1] < 2 * np.log(2)
    assert history["real_score"][-1] > history["fake_score"][-1]


def test_hinge_loss_and_validation(gan):
    gan.compile(loss="hinge")
    data = harness.tiny_clips(num_clips=16, batch_size=8)
    scores = gan.evaluate(data, return_dict=True, verbose=0)
    assert set(scores) == {"d_loss", "g_loss", "real_score", "fake_score"}
    assert np.isfinite(list(scores.values())).all()
    with pytest.raises(ValueError, match="`loss` must be one of 'non_saturating', 'hinge'"):
        gan.compile(loss="wasserstein")


def test_generation_is_reproducible_for_a_seed(gan):
    first, again, other = gan.generate(3, seed=7), gan.generate(3, seed=7), gan.generate(3, seed=8)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert np.abs(first.numpy() - other.numpy()).max() > 1e-4
    assert not np.allclose(gan.generate(2).numpy(), gan.generate(2).numpy())  # Unseeded: fresh noise.
    latents = gan.sample_latents(3, seed=7)
    np.testing.assert_array_equal(gan.generate_from_latents(latents).numpy(), first.numpy())
    with pytest.raises(ValueError, match="`latents` must have shape \\(batch, 16\\)"):
        gan.generate_from_latents(np.zeros((2, 5)))


def test_interpolation_goes_from_one_seed_to_the_other(gan):
    path = gan.interpolate(3, 4, steps=5).numpy()
    assert path.shape == (5, 4, 16, 16, 1)
    np.testing.assert_allclose(path[0], gan.generate(1, seed=3).numpy()[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], gan.generate(1, seed=4).numpy()[0], atol=1e-5)


def test_keras_round_trip_keeps_both_optimizers(gan, tmp_path):
    gan.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=1, verbose=0)
    restored = harness.assert_keras_round_trip(gan, lambda model: model.generate(2, seed=5), tmp_path)
    assert int(restored.g_optimizer.iterations) == 2 and restored.loss_kind == "non_saturating"
    restored.fit(harness.tiny_clips(num_clips=8, batch_size=8), epochs=1, verbose=0)
    assert int(restored.g_optimizer.iterations) == 3
    latents = tf.data.Dataset.from_tensor_slices(np.zeros((4, 16), "float32")).batch(2)
    harness.assert_predict_on_dataset(restored, latents, (4, 4, 16, 16, 1))


def test_resize_upsampling_generator_round_trips_and_trains():
    gan = VideoDCGAN.from_preset("tiny", generator_upsampling="resize", seed=0)
    assert gan.generator.get_layer("output_deconv_repeat") is not None  # Repeat, then a plain Conv3D.
    assert gan.generate(2, seed=1).shape == (2, 4, 16, 16, 1)
    restored = harness.assert_config_round_trip(gan)
    assert restored.generator.upsampling == "resize"
    with pytest.raises(ValueError, match="`upsampling` must be one of"):
        VideoDCGAN.from_preset("tiny", generator_upsampling="bilinear")


def test_frame_stream_adds_the_mean_of_per_frame_logits():
    keras.utils.set_random_seed(0)
    discriminator = VideoDiscriminator((4, 16, 16, 1), filters=(8, 16), spectral_norm=True, frame_filters=(4, 8))
    clips = np.random.default_rng(0).random((3, 4, 16, 16, 1)).astype("float32")
    video_logit = keras.Model(discriminator.input, discriminator.get_layer("logit_spectral_norm").output)
    per_frame = keras.Model(discriminator.input, discriminator.get_layer("frame_logit").output)
    assert per_frame(clips).shape == (3, 4, 1)
    expected = np.asarray(video_logit(clips)) + np.asarray(per_frame(clips)).mean(axis=1)
    np.testing.assert_allclose(np.asarray(discriminator(clips)), expected, atol=1e-5)
    # One frame blanked moves that frame's logit and so the clip's.
    blanked = clips.copy()
    blanked[:, 2] = 0.0
    assert np.abs(np.asarray(per_frame(blanked))[:, 2] - np.asarray(per_frame(clips))[:, 2]).max() > 1e-4
    harness.assert_config_round_trip(discriminator)
    with pytest.raises(ValueError, match=r"must divide by 2\*\*5 = 32 for 5 frame_filters"):
        VideoDiscriminator((4, 16, 16, 1), filters=(8,), frame_filters=(2, 2, 2, 2, 2))


@pytest.mark.parametrize(
    "option, filters", [("frame_discriminator_filters", (4, 8)), ("brightness_discriminator_filters", (8, 8))]
)
def test_gan_with_a_discriminator_stream_trains_and_round_trips(option, filters, tmp_path):
    keras.utils.set_random_seed(0)
    gan = VideoDCGAN.from_preset("tiny", **{option: filters}, seed=1)
    gan.compile()
    history = gan.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=2, verbose=0).history
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
    restored = harness.assert_keras_round_trip(
        gan, lambda model: model.discriminator(model.generate(2, seed=5)), tmp_path
    )
    assert VideoDCGAN.flat_config(restored.get_config())[option] == list(filters)


@pytest.mark.parametrize("upsampling", ["resize", "transpose"])
def test_motion_path_draws_each_frame_from_its_own_code(upsampling):
    generator = VideoGenerator((4, 16, 16, 1), latent_dim=8, filters=(16, 8), upsampling=upsampling, motion_units=6)
    clips = np.asarray(generator(np.random.default_rng(0).normal(size=(3, 8)).astype("float32")))
    assert clips.shape == (3, 4, 16, 16, 1) and 0.0 <= clips.min() and clips.max() <= 1.0
    assert generator.get_layer("motion_gru").output.shape == (None, 4, 6)
    convolutions = (keras.layers.Conv3D, keras.layers.Conv3DTranspose)
    kernels = [layer.kernel.shape for layer in generator.layers if isinstance(layer, convolutions)]
    assert len(kernels) == 2 and all(shape[0] == 1 for shape in kernels)  # Every kernel spans one frame.
    # From the per-frame codes on, frames are drawn independently: reversing the codes reverses the clip.
    draw = keras.Model(generator.get_layer("frame_codes").output, generator.output)
    codes = np.random.default_rng(1).normal(size=(2, 4, 14)).astype("float32")
    frames = np.asarray(draw(codes))
    np.testing.assert_allclose(np.asarray(draw(codes[:, ::-1])), frames[:, ::-1], atol=1e-6)
    assert np.abs(frames[:, 0] - frames[:, 1]).max() > 0.01  # Different codes, different frames: this can fail.
    harness.assert_config_round_trip(generator)
    with pytest.raises(ValueError, match="cannot be combined with `two_stream=True`"):
        VideoGenerator((4, 16, 16, 1), latent_dim=8, filters=(16, 8), two_stream=True, motion_units=6)
    with pytest.raises(ValueError, match="motion_units"):
        VideoGenerator((4, 16, 16, 1), latent_dim=8, filters=(16, 8), motion_units=0)


def test_gan_with_a_motion_path_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    gan = VideoDCGAN.from_preset("tiny", generator_upsampling="resize", generator_motion_units=8, seed=1)
    gan.compile()
    before = [keras.ops.convert_to_numpy(weight) for weight in gan.generator.get_layer("motion_gru").weights]
    history = gan.fit(harness.tiny_clips(num_clips=16, batch_size=8), epochs=2, verbose=0).history
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
    after = gan.generator.get_layer("motion_gru").weights
    changes = [np.abs(keras.ops.convert_to_numpy(new) - old).max() for new, old in zip(after, before)]
    assert min(changes) > 0  # The GRU learns.
    restored = harness.assert_keras_round_trip(gan, lambda model: model.generate(2, seed=5), tmp_path)
    assert restored.generator.motion_units == 8


def test_brightness_stream_adds_a_logit_read_from_the_brightness_track():
    keras.utils.set_random_seed(0)
    discriminator = VideoDiscriminator((4, 16, 16, 1), filters=(8, 16), spectral_norm=True, brightness_filters=(8, 8))
    clips = np.random.default_rng(0).random((3, 4, 16, 16, 1)).astype("float32")
    video_logit = keras.Model(discriminator.input, discriminator.get_layer("logit_spectral_norm").output)
    brightness_logit = keras.Model(
        discriminator.input, discriminator.get_layer("brightness_logit_spectral_norm").output
    )
    expected = np.asarray(video_logit(clips)) + np.asarray(brightness_logit(clips))
    np.testing.assert_allclose(np.asarray(discriminator(clips)), expected, atol=1e-5)
    # The stream reads the track only: a clip scaled as a whole scores the same, a dimmed frame does not.
    scaled = np.asarray(brightness_logit(clips * 0.5))
    np.testing.assert_allclose(scaled, np.asarray(brightness_logit(clips)), atol=1e-4)
    dimmed = clips.copy()
    dimmed[:, 2] *= 0.3
    assert np.abs(np.asarray(brightness_logit(dimmed)) - np.asarray(brightness_logit(clips))).min() > 1e-4
    harness.assert_config_round_trip(discriminator)
    with pytest.raises(ValueError, match="brightness_filters"):
        VideoDiscriminator((4, 16, 16, 1), filters=(8, 16), brightness_filters=(8, 0))


def _steady_square_clips(num_clips=16):
    """A bright 4x4 square moving one pixel a frame: every frame has the same mean brightness."""
    clips = np.zeros((num_clips, 4, 16, 16, 1), np.float32)
    rows = np.random.default_rng(0).integers(0, 12, size=num_clips)
    for index, row in enumerate(rows):
        for frame in range(4):
            clips[index, frame, row : row + 4, 2 + 2 * frame : 6 + 2 * frame] = 1.0
    return clips


def test_flicker_penalty_makes_the_generator_change_brightness_less_on_a_fixed_seed():
    from tfvidgen import losses

    clips = _steady_square_clips()
    flicker, logs = {}, {}
    for weight in (0.0, 100.0):
        keras.utils.set_random_seed(0)
        gan = VideoDCGAN.from_preset("tiny", flicker_penalty_weight=weight, seed=1)
        gan.compile()
        logs[weight] = gan.fit(clips, batch_size=8, epochs=6, verbose=0, shuffle=False).history
        flicker[weight] = float(np.mean(losses.brightness_change(gan.generate(32, seed=2))))
    assert "flicker_penalty" not in logs[0.0] and np.isfinite(logs[100.0]["flicker_penalty"]).all()
    assert logs[100.0]["flicker_penalty"][-1] < logs[100.0]["flicker_penalty"][0]
    assert flicker[100.0] < 0.5 * flicker[0.0], flicker
    with pytest.raises(ValueError, match="`flicker_penalty_weight` must be a finite non-negative number"):
        VideoDCGAN.from_preset("tiny", flicker_penalty_weight=-1.0)


def test_a_scheduled_flicker_penalty_weight_applies_its_value_at_each_generator_step(tmp_path):
    from tfvidgen.schedules import LinearSchedule

    clips = _steady_square_clips()[:16]

    def trained(weight):
        keras.utils.set_random_seed(0)
        gan = VideoDCGAN.from_preset("tiny", flicker_penalty_weight=weight, seed=1)
        gan.compile()
        gan.fit(clips, batch_size=8, epochs=1, verbose=0, shuffle=False)  # 2 steps.
        return gan, gan.generator.get_weights()

    _, off = trained(0.0)
    _, constant = trained(100.0)
    _, delayed = trained(LinearSchedule(0.0, 100.0, steps=1, delay=2))  # 0 at steps 0 and 1.
    scheduled, ramped = trained(LinearSchedule(100.0, 100.0, steps=1))  # 100 throughout.
    assert all(np.array_equal(a, b) for a, b in zip(off, delayed))
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(constant, ramped))
    assert not all(np.allclose(a, b, atol=1e-6) for a, b in zip(off, constant))  # The penalty does move it.
    restored = harness.assert_config_round_trip(scheduled)
    assert isinstance(restored.flicker_penalty_weight, LinearSchedule)
    assert float(restored.flicker_penalty_weight(5)) == 100.0
    scheduled.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert loaded.flicker_penalty_weight.get_config() == scheduled.flicker_penalty_weight.get_config()
