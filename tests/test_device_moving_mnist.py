"""Moving MNIST rendered with keras.ops on the device: TensorFlow in this process, JAX in one subprocess."""

import importlib
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tfvidgen.data import device_moving_mnist

moving_mnist_lib = importlib.import_module("tfvidgen.data.moving_mnist")
TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
WITHOUT_TENSORFLOW = os.path.join(TESTS, "without_tensorflow")


def _fixed_draws():
    """Draws both renderers can be fed: 3 clips of 2 digits of 7x7 (frames of 16x16), 5 frames."""
    rng = np.random.default_rng(7)
    images, labels = moving_mnist_lib.digit_bank("glyphs", "train", 7)
    return {
        "images": images,
        "choice": rng.integers(0, len(images), size=(3, 2)).astype("int32"),
        "start": (rng.uniform(size=(3, 2, 2)) * 9).astype("float32"),
        "angle": rng.uniform(0, 2 * np.pi, size=(3, 2)).astype("float32"),
        "speed": rng.uniform(2, 5, size=(3, 2)).astype("float32"),
    }


def _place_with_numpy(images, choice, positions, frame_size):
    """An independent reference: paste each digit at its corner, overlaps by maximum."""
    clips, frames, digits, _ = positions.shape
    size = images.shape[1]
    canvas = np.zeros((clips, frames) + frame_size, np.uint8)
    for clip in range(clips):
        for frame in range(frames):
            for slot in range(digits):
                y, x = positions[clip, frame, slot]
                window = canvas[clip, frame, y : y + size, x : x + size]
                np.maximum(window, images[choice[clip, slot]], out=window)
    return canvas


def _shared_math(draws, ops):
    limits = ops.convert_to_tensor([9.0, 9.0]) if ops is keras.ops else moving_mnist_lib.tf.constant([9.0, 9.0])
    positions = moving_mnist_lib.bounce(draws["start"], draws["angle"], draws["speed"], 5, limits, ops)
    clips = moving_mnist_lib.place_digits(draws["images"], draws["choice"], positions, (16, 16), ops)
    return np.asarray(clips), np.asarray(positions)


@pytest.fixture(scope="module")
def jax_results(tmp_path_factory):
    """One JAX process (TensorFlow unimportable): the shared math on the fixed draws, a jitted render, batches."""
    folder = tmp_path_factory.mktemp("device_moving_mnist")
    np.savez(folder / "draws.npz", **_fixed_draws())
    script = f"""
import json, sys, numpy as np, jax, keras
sys.path.insert(0, {TESTS!r})
import test_device_moving_mnist as t
from keras.src.trainers.data_adapters import data_adapter_utils, py_dataset_adapter
from tfvidgen.cli import training_data
from tfvidgen.data import device_moving_mnist as d
draws = dict(np.load({str(folder / "draws.npz")!r}))
clips, positions = t._shared_math(draws, keras.ops)
images, labels = t.moving_mnist_lib.digit_bank("glyphs", "train", 7)
render = jax.jit(lambda key: d.render_digits(key, images, labels, 4, 6, (16, 16), 1)[0])
key = jax.random.PRNGKey(5)
batches = d.DeviceMovingMNIST(batch_size=2, steps=3, num_frames=4, frame_size=16, seed=1)
(batch,) = batches[0]
args = type("Args", (), dict(data="moving_mnist", batch_size=None, seed=0, steps_per_epoch=2, validation_clips=0))
model = type("Model", (), dict(
    frame_shape=(16, 16, 1), numpy_training=True, trains_on_labels=False,
    training_clip_shape=lambda self, training: (training["num_frames"], 16, 16, 1)))()
training = {{"num_frames": 4, "batch_size": 3, "steps_per_epoch": 9}}
train, _ = training_data.build_datasets("simvp", model, args, training)
results = {{
    "shared_clips": clips.tolist(),
    "shared_positions": positions.tolist(),
    "jit_equal": bool((render(key) == render(key)).all()),
    "jit_other_key_differs": bool((render(key) != render(jax.random.PRNGKey(6))).any()),
    "eager_equals_jit": bool((d.render_digits(key, images, labels, 4, 6, (16, 16), 1)[0] == render(key)).all()),
    "batch_type": type(batch).__module__.split(".")[0],
    "batch_shape": list(batch.shape),
    "batch_dtype": str(batch.dtype),
    "batch_range": [float(batch.min()), float(batch.max())],
    "batch_again_equal": bool((batches[0][0] == batch).all()),
    "adapter_passes_through": next(data_adapter_utils.get_jax_iterator([(batch,)]))[0] is batch,
    "fit_gets": [
        type(x).__module__.split(".")[0]
        for x in next(iter(py_dataset_adapter.PyDatasetAdapter(batches, shuffle=False).get_jax_iterator()))
    ],
    "cli_source": type(train).__name__,
    "cli_batch_shape": list(train[0][0].shape),
    "tensorflow_imported": "tensorflow" in sys.modules,
}}
print(json.dumps(results))
"""
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="1")
    env["PYTHONPATH"] = os.pathsep.join([WITHOUT_TENSORFLOW, REPO])
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_shared_bounce_and_placement_agree_on_tensorflow_and_keras_ops_with_a_numpy_reference():
    draws = _fixed_draws()
    tf_clips, tf_positions = _shared_math(draws, moving_mnist_lib.tensorflow_ops())
    keras_clips, keras_positions = _shared_math(draws, keras.ops)
    np.testing.assert_array_equal(tf_clips, keras_clips)
    np.testing.assert_array_equal(tf_positions, keras_positions)
    assert tf_clips.shape == (3, 5, 16, 16) and tf_clips.dtype == np.uint8
    assert tf_positions.min() >= 0 and tf_positions.max() <= 9
    np.testing.assert_array_equal(tf_clips, _place_with_numpy(draws["images"], draws["choice"], tf_positions, (16, 16)))


def test_renders_shapes_dtype_range_and_is_deterministic_per_seed():
    images, labels = moving_mnist_lib.digit_bank("glyphs", "train", 7)
    clips, clip_labels, positions = device_moving_mnist.render_digits(3, images, labels, 4, 6, (16, 16))
    again, _, _ = device_moving_mnist.render_digits(3, images, labels, 4, 6, (16, 16))
    other, _, _ = device_moving_mnist.render_digits(4, images, labels, 4, 6, (16, 16))
    clips, positions = np.asarray(clips), np.asarray(positions)
    assert clips.shape == (4, 6, 16, 16) and clips.dtype == np.uint8 and clips.max() == 255
    assert tuple(clip_labels.shape) == (4, 2) and set(np.asarray(clip_labels).ravel()) <= set(range(10))
    assert positions.shape == (4, 6, 2, 2) and positions.min() >= 0 and positions.max() <= 9
    np.testing.assert_array_equal(clips, np.asarray(again))
    assert (clips != np.asarray(other)).any()
    steps = np.linalg.norm(np.diff(positions, axis=1), axis=-1)
    assert steps.max() <= 5.0 + 1.5 and steps.mean() > 1.0  # 2-5 px/frame, shortened by bounces and rounding.


def test_each_digit_is_where_its_trajectory_says():
    images, labels = moving_mnist_lib.digit_bank("glyphs", "train", 7)
    clips, clip_labels, positions = device_moving_mnist.render_digits(0, images, labels, 5, 3, (16, 16), 1)
    clips, clip_labels, positions = np.asarray(clips), np.asarray(clip_labels), np.asarray(positions)
    for clip in range(5):
        for frame in range(3):
            y, x = positions[clip, frame, 0]
            patch = clips[clip, frame, y : y + 7, x : x + 7]
            matches = np.flatnonzero((images == patch).all(axis=(1, 2)))
            assert len(matches) > 0 and clip_labels[clip, 0] in labels[matches]
            assert int(clips[clip, frame].astype(np.int64).sum()) == int(patch.astype(np.int64).sum())


def test_device_batches_on_tensorflow_match_the_numpy_source_in_shape_and_range():
    batches = device_moving_mnist.DeviceMovingMNIST(batch_size=3, steps=2, num_frames=4, frame_size=16, channels=3)
    (first,) = batches[0]
    assert len(batches) == 2 and tuple(first.shape) == (3, 4, 16, 16, 3) and first.dtype == "float32"
    values = np.asarray(first)
    assert values.min() == 0.0 and values.max() == 1.0
    np.testing.assert_array_equal(values[..., 0], values[..., 2])  # Gray repeated as RGB.
    np.testing.assert_array_equal(values, np.asarray(batches[0][0]))
    assert (values != np.asarray(batches[1][0])).any()
    batches.on_epoch_end()
    assert (values != np.asarray(batches[0][0])).any()  # A new epoch, new clips.
    with pytest.raises(TypeError, match=r"`seed` must be an int. Received: seed='1'"):
        device_moving_mnist.DeviceMovingMNIST(2, 2, 4, 16, seed="1")


@pytest.mark.slow
def test_on_jax_the_shared_math_equals_tensorflow_and_batches_stay_on_the_device(jax_results):
    draws = _fixed_draws()
    tf_clips, tf_positions = _shared_math(draws, moving_mnist_lib.tensorflow_ops())
    np.testing.assert_array_equal(np.asarray(jax_results["shared_clips"], np.uint8), tf_clips)
    np.testing.assert_array_equal(np.asarray(jax_results["shared_positions"]), tf_positions)
    assert jax_results["jit_equal"] and jax_results["jit_other_key_differs"] and jax_results["eager_equals_jit"]
    assert jax_results["batch_type"] == "jaxlib" and jax_results["batch_shape"] == [2, 4, 16, 16, 1]
    assert jax_results["batch_dtype"] == "float32" and jax_results["batch_range"] == [0.0, 1.0]
    assert jax_results["batch_again_equal"]
    # Keras' JAX trainer takes the device array as it is (no NumPy copy), and the CLI's JAX path renders there.
    assert jax_results["adapter_passes_through"] and jax_results["fit_gets"] == ["jaxlib"]
    assert jax_results["cli_source"] == "DeviceMovingMNIST" and jax_results["cli_batch_shape"] == [3, 4, 16, 16, 1]
    assert not jax_results["tensorflow_imported"]
