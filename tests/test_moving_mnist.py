import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

from tfvidgen.data import digits
from tfvidgen.data import moving_mnist

# `tfvidgen.data.moving_mnist` is the function; the module holds the digit bank.
moving_mnist_lib = importlib.import_module("tfvidgen.data.moving_mnist")


def _clips(**kwargs):
    options = dict(num_clips=6, num_frames=8, frame_size=32, seed=3, return_metadata=True)
    options.update(kwargs)
    elements = list(moving_mnist(**options).as_numpy_iterator())
    return (
        np.stack([e["frames"] for e in elements]),
        np.stack([e["labels"] for e in elements]),
        np.stack([e["trajectories"] for e in elements]),
    )


def test_shapes_dtype_and_range():
    frames, labels, trajectories = _clips()
    assert frames.shape == (6, 8, 32, 32, 1)
    assert frames.dtype == np.float32
    assert 0.0 <= frames.min() and frames.max() <= 1.0
    assert frames.max() > 0.9  # Digits are drawn with full-intensity ink.
    assert labels.shape == (6, 2) and set(labels.ravel()) <= set(range(10))
    assert trajectories.shape == (6, 8, 2, 2)


def test_cardinality_and_infinite_dataset():
    assert moving_mnist(num_clips=10, num_frames=4, frame_size=16).cardinality() == 10
    infinite = moving_mnist(num_frames=4, frame_size=16, chunk_size=4)
    assert len(list(infinite.take(9))) == 9


def test_deterministic_for_a_seed_and_different_across_seeds_and_splits():
    first, _, _ = _clips()
    again, _, _ = _clips()
    other_seed, _, _ = _clips(seed=4)
    test_split, _, _ = _clips(split="test")
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other_seed).mean() > 0.01
    assert np.abs(first - test_split).mean() > 0.01


def test_digits_move_and_stay_in_frame():
    frames, _, trajectories = _clips(num_frames=12, frame_size=64)
    digit_size = 28
    assert trajectories.min() >= 0 and trajectories.max() <= 64 - digit_size
    steps = np.linalg.norm(np.diff(trajectories, axis=1), axis=-1)
    # Speeds are drawn in [2, 5] px/frame; reflections and rounding shorten some steps.
    assert steps.mean() > 2.0 and steps.max() <= 5.0 + 1.5
    # Every frame shows ink, and consecutive frames differ (the digits move).
    assert (frames.reshape(6, 12, -1).max(axis=-1) > 0.5).all()
    assert (np.abs(np.diff(frames, axis=1)).reshape(6, 11, -1).sum(axis=-1) > 1.0).all()
    # The ink lies where the trajectories say the digits are.
    mask = np.zeros(frames.shape[:4], bool)
    for clip in range(6):
        for frame in range(12):
            for y, x in trajectories[clip, frame]:
                mask[clip, frame, y : y + digit_size, x : x + digit_size] = True
    assert frames[..., 0][~mask].max() == 0.0


def test_rgb_channels_and_digit_count():
    frames, labels, _ = _clips(channels=3, num_digits=3, frame_size=48)
    assert frames.shape[-1] == 3 and labels.shape == (6, 3)
    np.testing.assert_array_equal(frames[..., 0], frames[..., 2])


def test_glyph_splits_are_disjoint():
    train, train_labels = digits.glyph_digits("train")
    test, _ = digits.glyph_digits("test")
    assert train.shape[1:] == (28, 28) and len(train) > 3 * len(test) > 0
    assert np.bincount(train_labels).min() == np.bincount(train_labels).max()
    train_set = {image.tobytes() for image in train}
    assert not any(image.tobytes() in train_set for image in test)


def test_real_mnist_from_local_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    images = (rng.random((20, 28, 28)) > 0.8).astype(np.uint8) * 255
    np.savez(path, x_train=images, y_train=np.full(20, 7), x_test=images[:5], y_test=np.full(5, 3))
    _, labels, _ = _clips(digits="mnist", mnist_path=str(path))
    assert (labels == 7).all()
    _, labels, _ = _clips(digits="mnist", mnist_path=str(path), split="test")
    assert (labels == 3).all()


def test_missing_mnist_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="digits='glyphs'"):
        moving_mnist(num_clips=1, digits="mnist", mnist_path=str(tmp_path / "absent.npz"))
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(ValueError, match="missing arrays"):
        moving_mnist(num_clips=1, digits="mnist", mnist_path=str(bad))


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(num_frames=0), "`num_frames` must be a positive integer"),
        (dict(channels=2), "`channels` must be 1 \\(grayscale\\) or 3"),
        (dict(frame_size=(16, -1)), "`frame_size`"),
        (dict(digits="emnist"), "`digits` must be one of 'glyphs', 'mnist'"),
        (dict(frame_size=16, digit_size=20), "`digit_size` \\(20\\) must fit"),
        (dict(speed_range=(5, 1)), "`speed_range`"),
        (dict(split="dev"), "`split` must be one of"),
    ],
)
def test_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        moving_mnist(num_clips=1, **kwargs)


def _python_ops(dataset):
    """Names of the Python-calling ops (py_function, numpy_function) in a dataset's graph and its functions."""
    import tensorflow as tf

    graph = tf.compat.v1.GraphDef.FromString(tf.raw_ops.DatasetToGraphV2(input_dataset=dataset._variant_tensor).numpy())
    nodes = list(graph.node) + [node for function in graph.library.function for node in function.node_def]
    return sorted({node.op for node in nodes if "PyFunc" in node.op})


def test_the_pipeline_runs_no_python():
    # A Python renderer in tf.data keeps interpreter shutdown waiting on the pipeline's threads (issue 27).
    assert _python_ops(moving_mnist(num_clips=4, num_frames=4, frame_size=16)) == []
    assert _python_ops(moving_mnist(num_frames=4, frame_size=16, return_metadata=True)) == []


def test_the_renderer_draws_each_digit_where_its_trajectory_says():
    frames, labels, trajectories = _clips(num_frames=6, frame_size=32, num_digits=1)
    bank, bank_labels = moving_mnist_lib.digit_bank("glyphs", "train", 14)
    for clip in range(6):
        (y, x) = trajectories[clip, 0, 0]
        patch = np.rint(frames[clip, 0, y : y + 14, x : x + 14, 0] * 255).astype(np.uint8)
        # The patch is one of the bank's digits, with the label the metadata gives.
        matches = np.flatnonzero((bank == patch).all(axis=(1, 2)))
        assert len(matches) > 0 and labels[clip, 0] in bank_labels[matches]
        assert frames[clip, 0, ..., 0].sum() * 255 == pytest.approx(float(patch.astype(np.int64).sum()), abs=1e-2)


@pytest.mark.slow
def test_a_script_keeping_a_partly_read_iterator_exits(tmp_path):
    # The README's pattern: a prefetched, partly read infinite pipeline alive at the end of a script.
    # With a Python renderer in the pipeline 4 of 4 such scripts never exited.
    script = tmp_path / "keep_iterator.py"
    script.write_text(
        "from tfvidgen import data\n"
        "iterator = iter(data.batch_dataset(data.moving_mnist(num_frames=20, frame_size=64, seed=123), 16))\n"
        "print(tuple(next(iterator).shape))\n"
    )
    # The tfvidgen under test, wherever it is installed from.
    source_root = os.path.abspath(os.path.join(os.path.dirname(moving_mnist_lib.__file__), "..", ".."))
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="1")
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, os.environ.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "(16, 20, 64, 64, 1)"
