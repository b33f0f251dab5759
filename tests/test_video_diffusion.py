"""The video diffusion family: backbone, autoencoder, objectives, training, sampling, prediction, checks."""

import math

import keras
import numpy as np
import pytest

import harness
from tfvidgen import layers
from tfvidgen.losses import diffusion as diffusion_losses
from tfvidgen.models.diffusion import FrameAutoencoder
from tfvidgen.models.diffusion import VideoDiffusion
from tfvidgen.models.diffusion import VideoDiffusionBackbone


def _clips(count=16, seed=0):
    rng = np.random.default_rng(seed)
    clips = np.zeros((count, 4, 16, 16, 1), np.float32)
    for index in range(count):  # A bright square moving right by 2 pixels a frame.
        y, x = rng.integers(0, 8, 2)
        for frame in range(4):
            clips[index, frame, y : y + 6, x + 2 * frame : x + 2 * frame + 6] = 1.0
    return clips, rng.integers(0, 10, (count, 2)).astype(np.int32)


@pytest.fixture(scope="module")
def trained():
    """The tiny latent preset after 3 epochs on a fixed seed, with its history."""
    keras.utils.set_random_seed(0)
    model = VideoDiffusion.from_preset("tiny", seed=1)
    model.compile(keras.optimizers.Adam(3e-3))
    clips, labels = _clips()
    history = model.fit(clips, labels, batch_size=4, epochs=3, verbose=0, shuffle=False).history
    return model, history


def test_objectives_give_back_the_clean_sample_and_the_noise():
    rng = np.random.default_rng(0)
    x0, noise = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(2, 3)).astype("float32")
    t = np.array([[0.3], [0.8]], np.float32)
    for objective in diffusion_losses.OBJECTIVES:
        noisy, target = diffusion_losses.noisy_and_target(x0, noise, t, objective)
        estimate_x0, estimate_noise = diffusion_losses.denoised(noisy, target, t, objective)
        np.testing.assert_allclose(estimate_x0, x0, atol=1e-5)
        np.testing.assert_allclose(estimate_noise, noise, atol=1e-5)
        # A perfect prediction steps exactly onto the path between the same x0 and noise.
        step = diffusion_losses.deterministic_step(noisy, target, t, t - 0.2, objective)
        expected, _ = diffusion_losses.noisy_and_target(x0, noise, t - 0.2, objective)
        np.testing.assert_allclose(step, expected, atol=1e-5)
    alpha, sigma = diffusion_losses.alpha_sigma(np.float32(0.5), "v")
    assert math.isclose(float(alpha) ** 2 + float(sigma) ** 2, 1.0, rel_tol=1e-6)  # Variance preserving.
    with pytest.raises(ValueError, match="`objective` must be one of"):
        diffusion_losses.alpha_sigma(0.5, "eps")


def test_masked_loss_counts_only_the_frames_to_generate():
    target = np.zeros((2, 3, 1, 1, 1), np.float32)
    prediction = np.array([1.0, 2.0, 3.0, 0.0, 0.0, 4.0], np.float32).reshape(2, 3, 1, 1, 1)
    weights = np.array([[0, 1, 1], [0, 0, 0]], np.float32)
    # Clip 0: (4 + 9) / 2; clip 1: no counted frame -> 0; mean over clips.
    assert float(diffusion_losses.masked_mean_squared_error(target, prediction, weights)) == pytest.approx(3.25)


def test_layers_shapes_and_identity_at_initialisation():
    embedding = layers.SinusoidalEmbedding(8)(np.array([0.0, 0.5], np.float32))
    np.testing.assert_allclose(np.asarray(embedding)[0], [0, 0, 0, 0, 1, 1, 1, 1], atol=1e-6)
    x = np.random.default_rng(0).normal(size=(2, 5, 3, 3, 8)).astype("float32")
    attention = layers.TemporalAttention(num_heads=2, groups=4)
    np.testing.assert_array_equal(np.asarray(attention(x)), x)  # Zero output projection: the identity.
    with pytest.raises(ValueError, match="`dim` must be an even int"):
        layers.SinusoidalEmbedding(7)
    with pytest.raises(ValueError, match="`num_heads` must divide the channels"):
        layers.TemporalAttention(num_heads=3)(x)


def test_temporal_attention_mixes_frames_and_only_frames():
    attention = layers.TemporalAttention(num_heads=2, groups=4)
    x = np.random.default_rng(0).normal(size=(1, 4, 2, 2, 8)).astype("float32")
    attention(x)
    attention.out.kernel.assign(np.random.default_rng(1).normal(size=(8, 8)).astype("float32"))
    base = np.asarray(attention(x))
    changed = x.copy()
    changed[0, 0, 0, 0] += 1.0  # One pixel of the first frame.
    delta = np.abs(np.asarray(attention(changed)) - base).sum(axis=-1)[0]
    assert delta[1:, 0, 0].min() > 1e-3  # Later frames of that pixel see it.
    # Attention runs along time only: permuting the pixels permutes the output the same way.
    swapped = x[:, :, ::-1, ::-1]
    np.testing.assert_allclose(np.asarray(attention(swapped)), base[:, :, ::-1, ::-1], atol=1e-5)


def test_backbone_and_autoencoder_shapes_configs_and_errors():
    backbone = VideoDiffusionBackbone((4, 8, 8, 2), widths=(16, 32), num_heads=2, num_classes=10, groups=4)
    inputs = {
        "noisy": np.ones((2, 4, 8, 8, 2), np.float32),
        "noise_level": np.array([0.1, 0.9], np.float32),
        "context": np.zeros((2, 4, 8, 8, 2), np.float32),
        "mask": np.zeros((2, 4), np.float32),
        "labels": np.array([3, 10], np.int32),
    }
    output = np.asarray(backbone(inputs))
    assert output.shape == (2, 4, 8, 8, 2) and not output.any()  # Zero-initialised output convolution.
    harness.assert_config_round_trip(backbone)
    autoencoder = FrameAutoencoder((16, 16, 1), filters=(8, 16), latent_channels=4, groups=4)
    assert autoencoder.latent_shape == (4, 4, 4)
    assert tuple(autoencoder.encoder(np.zeros((2, 3, 16, 16, 1), np.float32)).shape) == (2, 3, 4, 4, 4)
    harness.assert_config_round_trip(autoencoder)
    with pytest.raises(ValueError, match=r"must divide by 2\*\*\(len\(widths\) - 1\) = 4"):
        VideoDiffusionBackbone((4, 6, 6, 1), widths=(8, 8, 8))
    with pytest.raises(ValueError, match="`temporal_attention_levels` must hold levels in \\[0, 1\\]"):
        VideoDiffusionBackbone((4, 8, 8, 1), widths=(8, 8), temporal_attention_levels=(2,))
    with pytest.raises(ValueError, match=r"`backbone.clip_shape` must be \(4, 4, 4, 4\)"):
        VideoDiffusion(
            autoencoder=autoencoder, clip_shape=(4, 16, 16, 1), backbone=VideoDiffusionBackbone((4, 16, 16, 1), (8, 8))
        )
    # Flat keys reach the network that takes them (presets, overrides, --set).
    model = VideoDiffusion.from_preset("tiny", widths=(8, 16), latent_channels=2, backbone_clip_shape=(4, 4, 4, 2))
    assert model.backbone.widths == [8, 16] and model.autoencoder.latent_channels == 2
    assert model.latent_clip_shape == (4, 4, 4, 2) and model.latent_dim == 128
    assert VideoDiffusion.from_preset("tiny_pixel").autoencoder is None  # Pixel space.


def test_loss_falls_on_a_fixed_seed(trained):
    _, history = trained
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < 0.95 * history["loss"][0], history["loss"]
    assert history["autoencoder_loss"][-1] < history["autoencoder_loss"][0]


def test_the_average_of_the_weights_follows_the_training(trained):
    model, _ = trained
    live = model.backbone.get_layer("output_conv").get_weights()[0]
    average = model.ema_backbone.get_layer("output_conv").get_weights()[0]
    assert np.abs(live).max() > 0 and np.abs(average).max() > 0  # Both left their zero start...
    assert not np.array_equal(live, average)  # ...but the average lags the live weights.
    assert float(model.latent_scale) != 1.0  # The latents' running RMS was measured.


def test_seeded_sampling_is_reproducible_and_arguments_matter(trained):
    model, _ = trained
    first = np.asarray(model.sample(2, seed=0, steps=4))
    assert first.shape == (2, 4, 16, 16, 1) and 0.0 <= first.min() and first.max() <= 1.0
    np.testing.assert_array_equal(np.asarray(model.sample(2, seed=0, steps=4)), first)
    assert np.abs(np.asarray(model.sample(2, seed=1, steps=4)) - first).max() > 1e-3
    assert np.abs(np.asarray(model.sample(2, seed=0, steps=2)) - first).max() > 1e-4
    labelled = np.asarray(model.sample(2, seed=0, steps=4, labels=[3, 7], guidance=1.0))
    guided = np.asarray(model.sample(2, seed=0, steps=4, labels=[3, 7], guidance=3.0))
    assert np.abs(labelled - first).max() > 1e-5  # The labels change the samples...
    assert np.abs(guided - labelled).max() > 1e-5  # ...and guidance pushes further.
    # A deterministic sampler: decode() of the same noise gives the same clips.
    np.testing.assert_array_equal(np.asarray(model.decode(model.sample_noise(2, 0), steps=4)), first)


def test_known_frames_come_back_unchanged(trained):
    model, _ = trained
    clips, _ = _clips(2, seed=5)
    completed = np.asarray(model.complete(clips, known_frames=2, seed=0, steps=3))
    np.testing.assert_array_equal(completed[:, :2], clips[:, :2])
    assert not np.array_equal(completed[:, 2:], clips[:, 2:])
    futures = np.asarray(model.predict_future(clips[:, :3], horizon=5, seed=0, num_samples=3, steps=3))
    assert futures.shape == (2, 3, 5, 16, 16, 1)
    assert np.abs(futures[:, 0] - futures[:, 1]).max() > 1e-4  # Several futures, not one.
    np.testing.assert_array_equal(
        np.asarray(model.predict_future(clips[:, :3], horizon=5, seed=0, num_samples=3, steps=3)), futures
    )
    assert np.asarray(model.predict_future(clips[:, :3], horizon=5, seed=0, steps=3)).shape == (2, 5, 16, 16, 1)


def test_keras_round_trip_keeps_the_average_and_the_optimizer(trained, tmp_path):
    model, _ = trained
    restored = harness.assert_keras_round_trip(
        model, lambda m: m.sample(2, seed=3, steps=3, labels=4, guidance=2.0), tmp_path
    )
    for mine, theirs in zip(model.ema_backbone.weights, restored.ema_backbone.weights):
        np.testing.assert_array_equal(np.asarray(theirs), np.asarray(mine))
    assert float(restored.latent_scale) == float(model.latent_scale)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "`steps` must be"),
        ({"steps": 100_001}, "`steps` must be"),
        ({"guidance": float("nan")}, r"`guidance` must be a number in \[0, 100\]"),
        ({"guidance": -1.0}, r"`guidance` must be a number in \[0, 100\]"),
        ({"labels": [3, 10]}, r"`labels` must be class indices in \[0, 9\]"),
        ({"labels": [3]}, "`labels` must be an int or 2 ints"),
    ],
)
def test_bad_sampling_arguments_fail_in_one_line(trained, kwargs, message):
    model, _ = trained
    with pytest.raises(ValueError, match=message) as error:
        model.sample(2, seed=0, **kwargs)
    assert "\n" not in str(error.value)


def test_bad_prediction_arguments_fail_in_one_line(trained):
    model, _ = trained
    with pytest.raises(ValueError, match=r"`context` must have shape \(batch, frames >= 1, 16, 16, 1\)"):
        model.predict_future(np.zeros((1, 2, 8, 8, 1), np.float32), 3)
    with pytest.raises(ValueError, match="`known_frames` must be"):
        model.complete(np.zeros((1, 4, 16, 16, 1), np.float32), known_frames=4)
    unconditional = VideoDiffusion.from_preset("tiny", num_classes=0, widths=(8, 8))
    with pytest.raises(ValueError, match="`labels` needs a class-conditional model"):
        unconditional.sample(1, seed=0, steps=1, labels=3)


@pytest.mark.slow
def test_the_shipped_reference_reconstructs_sharply_and_samples_digit_sized_strokes():
    from tfvidgen import data
    from tfvidgen import metrics

    model = VideoDiffusion.from_preset("moving_mnist")  # saved_models/diffusion_cpu_small
    assert model.clip_shape == (16, 64, 64, 1) and model.latent_clip_shape == (16, 16, 16, 4)
    real = data.moving_mnist(num_clips=4, num_frames=16, frame_size=64, split="test", seed=123)
    real = np.stack(list(real.as_numpy_iterator()))
    # Measured on these 4 clips: 34.66 dB, SSIM 0.9941 (256 clips: 34.41 dB, 0.9941): the latent space loses little.
    assert np.mean(metrics.per_frame_psnr(real, model(real))) > 34.0
    assert np.mean(metrics.per_frame_ssim(real, model(real))) > 0.99
    samples = np.asarray(model.sample(4, seed=0, steps=10))
    # Measured: 8.7% of the pixels bright against 7.9% in the real clips (an untrained model draws noise or nothing).
    assert 0.06 < (samples > 0.5).mean() < 0.11, (samples > 0.5).mean()
    np.testing.assert_array_equal(np.asarray(model.sample(4, seed=0, steps=10)), samples)
