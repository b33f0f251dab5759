import numpy as np
import pytest

from tfvidgen import losses


def test_kl_matches_closed_form_and_monte_carlo():
    mean = np.array([[0.5, -1.0], [0.0, 0.0]], np.float32)
    log_var = np.array([[np.log(2.0), np.log(0.5)], [0.0, 0.0]], np.float32)
    expected = 0.5 * (mean**2 + np.exp(log_var) - 1 - log_var)
    np.testing.assert_allclose(losses.kl_divergence_per_dimension(mean, log_var).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(losses.kl_divergence(mean, log_var).numpy(), expected.sum(axis=1), rtol=1e-6)
    # Monte Carlo: E_q[log q(z) - log p(z)] for the first clip.
    rng = np.random.default_rng(0)
    std = np.exp(log_var[0] / 2)
    z = mean[0] + std * rng.standard_normal((400_000, 2))
    log_q = -0.5 * (((z - mean[0]) / std) ** 2 + np.log(2 * np.pi) + log_var[0])
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    assert (log_q - log_p).sum(axis=1).mean() == pytest.approx(expected[0].sum(), rel=0.01)
    assert float(losses.kl_divergence(np.zeros((1, 4)), np.zeros((1, 4)))[0]) == 0.0


def test_free_bits_clamp_each_dimension_from_below():
    mean = np.array([[0.1, 2.0], [0.1, 2.0]], np.float32)
    log_var = np.zeros((2, 2), np.float32)
    per_dimension = 0.5 * mean[0] ** 2  # [0.005, 2.0]
    clamped = losses.kl_divergence(mean, log_var, free_bits=0.5).numpy()
    np.testing.assert_allclose(clamped, [0.5 + per_dimension[1]] * 2, rtol=1e-6)


def test_reconstruction_losses_sum_over_pixels_per_clip():
    y_true = np.zeros((2, 2, 2, 2, 1), np.float32)
    y_true[0] = 1.0
    y_pred = np.full_like(y_true, 0.25)
    mse = losses.reconstruction_loss(y_true, y_pred, "mse").numpy()
    np.testing.assert_allclose(mse, [8 * 0.5 * 0.75**2, 8 * 0.5 * 0.25**2], rtol=1e-6)
    bce = losses.reconstruction_loss(y_true, y_pred, "bce").numpy()
    np.testing.assert_allclose(bce, [8 * -np.log(0.25), 8 * -np.log(0.75)], rtol=1e-5)
    with pytest.raises(ValueError, match="`kind` must be one of 'bce', 'mse'"):
        losses.reconstruction_loss(y_true, y_pred, "l1")


def test_adversarial_losses():
    real = np.array([[2.0], [-1.0]], np.float32)
    fake = np.array([[0.5], [-3.0]], np.float32)
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    np.testing.assert_allclose(
        losses.discriminator_loss(real, fake).numpy(), softplus(-real[:, 0]) + softplus(fake[:, 0]), rtol=1e-6
    )
    np.testing.assert_allclose(losses.generator_loss(fake).numpy(), softplus(-fake[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(losses.discriminator_loss(real, fake, "hinge").numpy(), [0 + 1.5, 2 + 0])
    np.testing.assert_allclose(losses.generator_loss(fake, "hinge").numpy(), [-0.5, 3.0])


def test_l1_l2_loss():
    loss = losses.L1L2(l1_weight=2.0, l2_weight=0.5)
    value = float(loss(np.zeros((1, 4), np.float32), np.array([[1.0, -1.0, 0.0, 2.0]], np.float32)))
    assert value == pytest.approx(2.0 * 1.0 + 0.5 * 1.5)
    assert losses.L1L2.from_config(loss.get_config()).l1_weight == 2.0


def test_flicker_penalty_counts_only_brightness_change_beyond_the_real_batch():
    steady = np.full((2, 4, 8, 8, 1), 0.3, np.float32)
    flicker = steady.copy()
    flicker[:, 1::2] = 0.1  # Mean brightness 0.3, 0.1, 0.3, 0.1: changes by 0.2 every frame.
    np.testing.assert_allclose(losses.brightness_change(flicker).numpy(), [0.2, 0.2], rtol=1e-6)
    np.testing.assert_allclose(losses.brightness_change(steady).numpy(), [0.0, 0.0])
    # Against steady real clips (brightness 0.3, no change): the whole change, relative to 0.3 (+ epsilon).
    np.testing.assert_allclose(losses.flicker_penalty(flicker, steady).numpy(), [0.2 / 0.301] * 2, rtol=1e-5)
    assert np.all(losses.flicker_penalty(steady, flicker).numpy() == 0.0)  # Steadier than real: no penalty.
    # Real clips that change by 0.05 a frame excuse that much of the generated clips' change.
    real = steady.copy()
    real[:, 1::2] = 0.25
    expected = (0.2 - 0.05) / (real.mean() + 1e-3)
    np.testing.assert_allclose(losses.flicker_penalty(flicker, real).numpy(), [expected] * 2, rtol=1e-5)
    # A moving square keeps its mass: moving is not flicker.
    moving = np.zeros((1, 4, 8, 8, 1), np.float32)
    for frame in range(4):
        moving[0, frame, 2:5, frame : frame + 3] = 1.0
    assert losses.flicker_penalty(moving, steady).numpy()[0] == 0.0
