"""tfvidgen's one test harness: the checks every model goes through, on tiny shapes, under any backend.

- This module: the generic checks a test calls with its own inputs (config
  round trip, `.keras` round trip with equal outputs and optimizer state,
  `predict` on a `tf.data.Dataset`, loss falling under `fit` on a fixed seed)
  and tiny Moving MNIST data.
- `harness.roles`: every family of `tfvidgen.models.FAMILIES`, grouped by its
  role class (frame predictor, generative model, interpolator), with what each
  role needs to train, save and compare a tiny model. The role tests
  (`tests/test_harness_*.py`) run in-process under the backend
  `KERAS_BACKEND` selects; CI runs them on TensorFlow and on JAX.
- `harness.cross_backend`: the checks that need a fresh process (JAX without
  TensorFlow, models trained on JAX served by TensorFlow, data parallelism on
  two JAX devices), run by `tests/test_backends.py`.
"""

import json

import keras
import numpy as np


def assert_config_round_trip(model):
    """`get_config` -> JSON -> `from_config` gives the same config."""
    config = json.loads(json.dumps(model.get_config()))
    restored = type(model).from_config(config)
    assert json.loads(json.dumps(restored.get_config())) == config
    return restored


def optimizer_state(model):
    """Every optimizer variable of the model (several optimizers for a GAN), as arrays."""
    names = [name for name in ("optimizer", "d_optimizer", "g_optimizer") if getattr(model, name, None) is not None]
    return {
        f"{name}/{variable.path}": keras.ops.convert_to_numpy(variable.value)
        for name in names
        for variable in getattr(model, name).variables
    }


def assert_keras_round_trip(model, output_fn, directory):
    """Saves to `.keras`, reloads, and checks outputs and optimizer state are equal.

    Args:
        model: a compiled (and usually trained) model.
        output_fn: `model -> array`, a deterministic output to compare.
        directory: a temporary directory.

    Returns:
        The reloaded model.
    """
    path = str(directory / f"{model.name}.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored) is type(model)
    np.testing.assert_allclose(np.asarray(output_fn(restored)), np.asarray(output_fn(model)), atol=1e-5)
    before, after = optimizer_state(model), optimizer_state(restored)
    assert before, "the model has no optimizer state to compare"
    assert sorted(before) == sorted(after)
    for name, value in before.items():
        np.testing.assert_allclose(after[name], value, atol=1e-6, err_msg=name)
    return restored


def assert_predict_on_dataset(model, dataset, expected_shape):
    """`model.predict` accepts a `tf.data.Dataset` and returns `expected_shape`."""
    predictions = model.predict(dataset, verbose=0)
    assert predictions.shape == expected_shape
    assert np.isfinite(predictions).all()
    return predictions


def fit_and_check_loss_falls(model, dataset, epochs=3, key="loss", factor=0.95):
    """Fits on a fixed seed and checks the last epoch's `key` is below `factor` x the first."""
    keras.utils.set_random_seed(0)
    history = model.fit(dataset, epochs=epochs, verbose=0).history
    values = history[key]
    assert np.all(np.isfinite(values)), values
    assert values[-1] < factor * values[0], f"{key} did not fall: {values}"
    return history


def tiny_pairs(num_clips=16, num_frames=4, context_frames=2, batch_size=4, frame_size=16, channels=1):
    """Batched `(context, target)` Moving MNIST pairs on a fixed seed."""
    from tfvidgen.data import batch_dataset
    from tfvidgen.data import moving_mnist
    from tfvidgen.data import prediction_pairs

    clips = moving_mnist(num_clips=num_clips, num_frames=num_frames, frame_size=frame_size, channels=channels, seed=7)
    return batch_dataset(prediction_pairs(clips, context_frames).cache(), batch_size)


def tiny_clips(num_clips=16, num_frames=4, batch_size=4, frame_size=16, channels=1):
    """Batched Moving MNIST clips on a fixed seed."""
    from tfvidgen.data import batch_dataset
    from tfvidgen.data import moving_mnist

    clips = moving_mnist(num_clips=num_clips, num_frames=num_frames, frame_size=frame_size, channels=channels, seed=7)
    return batch_dataset(clips.cache(), batch_size)


def first_batch(dataset):
    import tensorflow as tf

    return tf.nest.map_structure(lambda tensor: tensor.numpy(), next(iter(dataset)))
