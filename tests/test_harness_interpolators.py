"""The frame interpolators' common tests (every interpolator-role family of `tfvidgen.models.FAMILIES`),
in-process under the backend `KERAS_BACKEND` selects (CI: TensorFlow, then JAX). The interpolator trains from
NumPy `(neighbours, middle)` arrays on any backend. Family-specific tests stay in their files."""

import json

import numpy as np
import pytest

import harness
from harness import roles
from tfvidgen.models import FAMILIES

INTERPOLATORS = roles.families("interpolator")


def test_the_registry_has_the_interpolator():
    assert "interpolator" in INTERPOLATORS


@pytest.mark.backends
@pytest.mark.parametrize("family", INTERPOLATORS)
def test_fit_on_numpy_triplets_save_reload_and_interpolate(family, tmp_path):
    """Loss falls below blending's, config and `.keras` round trips (optimizer state too), middles reproducible."""
    model, history = roles.trained(family)
    assert history["loss"][-1] < history["loss"][0], history["loss"]  # Falls on a fixed seed.
    neighbours, middle = roles.training_data(model)
    assert neighbours.shape == (32, 2, 16, 16, 1) and middle.shape == (32, 16, 16, 1)
    blend_error = np.abs(neighbours.mean(axis=1) - middle).mean()
    assert np.abs(np.asarray(model.predict(neighbours, verbose=0)) - middle).mean() < blend_error
    config = json.loads(json.dumps(model.get_config()))
    assert json.loads(json.dumps(type(model).from_config(config).get_config())) == config
    restored = harness.assert_keras_round_trip(model, roles.output, tmp_path)
    first = roles.output(model)
    assert first.shape == (2, 16, 16, 1)
    np.testing.assert_array_equal(roles.output(model), first)
    np.testing.assert_array_equal(roles.output(restored), first)  # Equal to the last bit after reloading.
    assert roles.optimizer_steps(restored) == roles.optimizer_steps(model) == [12]  # 3 epochs x 4 batches of 8.
    clip = roles.SQUARES[0]
    doubled = np.asarray(model.interpolate_clip(clip, factor=2))
    assert doubled.shape == (7, 16, 16, 1)
    np.testing.assert_array_equal(doubled[::2], clip)  # The input frames stay where they were.
    np.testing.assert_array_equal(doubled[1::2], np.asarray(model.interpolate(clip[:-1], clip[1:])))


@pytest.mark.backends
@pytest.mark.parametrize("family", INTERPOLATORS)
def test_bad_inputs(family):
    model = FAMILIES[family].from_preset("tiny")
    frames = np.random.default_rng(0).random((2, 16, 16, 1)).astype("float32")
    with pytest.raises(ValueError, match=r"`frame_a` must have shape \(batch, 16, 16, 1\). Received shape \(2, 2, 16"):
        model.interpolate(np.zeros((2, 2, 16, 16, 1), "float32"), frames)
    with pytest.raises(ValueError, match=r"`factor` must be a power of 2.*Received: factor=3"):
        model.interpolate_clip(roles.CLIPS[0], factor=3)
    uint8_valued = np.zeros((1, 16, 16, 1), "float32")
    uint8_valued[0, 3, 3] = 255.0
    with pytest.raises(ValueError, match=r"`frame_b` must hold float values in \[0, 1\].*\[0, 255\]"):
        model.interpolate(frames[:1], uint8_valued)
