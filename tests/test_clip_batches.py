"""NumPy input for any backend: `ClipBatches` and `numpy_clips`."""

import numpy as np
import pytest

from tfvidgen.data import ClipBatches
from tfvidgen.data import numpy_clips


def test_finite_clips_batch_with_a_partial_last_batch_and_reshuffle_each_epoch():
    clips = np.arange(10, dtype="float32").reshape(10, 1, 1, 1, 1) / 10
    batches = ClipBatches(clips, batch_size=4, seed=3)
    assert len(batches) == 3
    assert [batches[i].shape[0] for i in range(3)] == [4, 4, 2]
    first_epoch = np.concatenate([batches[i] for i in range(3)]).ravel()
    np.testing.assert_array_equal(np.sort(first_epoch), clips.ravel())  # Every clip once per epoch.
    batches.on_epoch_end()
    second_epoch = np.concatenate([batches[i] for i in range(3)]).ravel()
    assert not np.array_equal(first_epoch, second_epoch)
    np.testing.assert_array_equal(np.sort(second_epoch), clips.ravel())
    unshuffled = ClipBatches(clips, batch_size=4, shuffle=False)
    np.testing.assert_array_equal(unshuffled[0].ravel(), clips[:4].ravel())


def test_moving_mnist_renders_reproducible_batches_in_range():
    render = numpy_clips("moving_mnist", num_frames=4, frame_size=16, channels=1, seed=0)
    batches = ClipBatches(render, batch_size=3, steps=5, seed=1)
    again = ClipBatches(render, batch_size=3, steps=5, seed=1)
    assert len(batches) == 5
    batch = batches[2]
    assert batch.shape == (3, 4, 16, 16, 1) and batch.dtype == np.float32
    assert 0.0 <= batch.min() and batch.max() <= 1.0 and batch.max() > 0.5  # Digits are drawn.
    np.testing.assert_array_equal(batch, again[2])
    assert not np.array_equal(batches[2], batches[3])
    validation = numpy_clips("moving_mnist", 4, 16, 3, split="validation", num_clips=6, seed=0)
    assert validation.shape == (6, 4, 16, 16, 3)


def test_video_files_give_clips_in_memory(video_dir):
    clips = numpy_clips(str(video_dir / "long.mp4"), num_frames=4, frame_size=16, channels=3, split="train")
    assert clips.ndim == 5 and clips.shape[1:] == (4, 16, 16, 3) and len(clips) >= 5
    assert clips.max() > 0.5


def test_bad_sources_and_arguments_are_refused():
    with pytest.raises(ValueError, match="needs TensorFlow"):
        numpy_clips("tfds:moving_mnist", 4, 16, 1)
    with pytest.raises(ValueError, match="`steps`"):
        ClipBatches(lambda rng, n: None, batch_size=2)
    with pytest.raises(ValueError, match="no clip"):
        ClipBatches(np.zeros((0, 4, 16, 16, 1), "float32"), batch_size=2)
