"""The generative models' common tests (every `GenerativeModel` of `tfvidgen.models.FAMILIES`), in-process under
the backend `KERAS_BACKEND` selects (CI: TensorFlow, then JAX). Family-specific tests stay in their files."""

import json

import keras
import numpy as np
import pytest

from harness import roles
from tfvidgen import schedules
from tfvidgen.models import FAMILIES
from tfvidgen.models import VideoDCGAN

GENERATIVE = roles.families("generative")


def test_the_registry_has_the_generative_models():
    assert {"dcgan", "vae"} <= set(GENERATIVE)


@pytest.mark.backends
@pytest.mark.parametrize("family", GENERATIVE)
def test_fit_save_reload_and_seeded_samples(family, tmp_path):
    """Loss falls, config and `.keras` round trips (samples from a fitted prior too), seeded samples reproducible."""
    model, history = roles.trained(family)
    loss = history[roles.loss_key(history)]
    assert loss[-1] < loss[0], loss  # Falls on a fixed seed.
    fits_prior = hasattr(model, "fit_latent_prior")
    if fits_prior:  # Samples from a prior fitted after training, which the round trip must keep.
        model.fit_latent_prior(roles.CLIPS)
    config = json.loads(json.dumps(model.get_config()))
    assert json.loads(json.dumps(type(model).from_config(config).get_config())) == config
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    first = roles.output(model)
    assert first.shape == (2, 4, 16, 16, 1)
    np.testing.assert_array_equal(roles.output(model), first)  # The same seed, the same clips.
    assert not np.allclose(first, np.asarray(model.sample(2, seed=4)))  # Another seed, other clips.
    np.testing.assert_array_equal(roles.output(restored), first)  # Equal to the last bit after reloading.
    steps = roles.optimizer_steps(model)
    assert roles.optimizer_steps(restored) == steps and set(steps) == {6}  # 3 epochs x 2 batches of 8.
    assert tuple(roles.interpolate_latents(model, 3, 4, steps=5).shape) == (5, 4, 16, 16, 1)
    if fits_prior:
        assert model.latent_prior.is_fitted() and restored.latent_prior.is_fitted()


@pytest.mark.backends
@pytest.mark.parametrize("family", GENERATIVE)
def test_bad_arguments(family):
    model = FAMILIES[family].from_preset("tiny")
    with pytest.raises(
        ValueError, match=rf"`latents` must have shape \(batch, {model.latent_dim}\). Received shape \(2, 3\)"
    ):
        model.decode(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"`num_samples` must be a positive integer \(>= 1\). Received: num_samples=0"):
        model.sample(0, seed=1)
    with pytest.raises(TypeError, match="`num_samples` must be a positive integer. Received: num_samples=2.5"):
        model.sample(2.5, seed=1)


# === Family-specific, on every backend ===


@pytest.mark.backends
def test_gan_options_train_and_round_trip(tmp_path):
    """The GAN's options off the tiny preset's path: motion path, brightness stream, scheduled flicker penalty."""
    keras.utils.set_random_seed(1)
    gan = VideoDCGAN.from_preset(
        "tiny",
        generator_motion_units=8,
        brightness_discriminator_filters=(8, 8),
        generator_upsampling="resize",
        flicker_penalty_weight=schedules.LinearSchedule(0.0, 10.0, steps=1),  # A schedule: on from step 1.
        seed=1,
    )
    gan.compile()
    history = gan.fit(roles.CLIPS, epochs=1, batch_size=8, verbose=0).history
    assert all(np.isfinite(history[key]).all() for key in ("d_loss", "g_loss", "flicker_penalty"))
    gan.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    clips = np.asarray(gan.sample(2, seed=3))
    assert clips.shape == (2, 4, 16, 16, 1)
    np.testing.assert_array_equal(np.asarray(restored.sample(2, seed=3)), clips)
    np.testing.assert_array_equal(np.asarray(restored.discriminator(clips)), np.asarray(gan.discriminator(clips)))
