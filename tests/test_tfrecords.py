import numpy as np
import pytest
import tensorflow as tf

from tfvidgen.data import moving_mnist
from tfvidgen.data import read_tfrecords
from tfvidgen.data import write_tfrecords


def _clips(count=6, channels=1):
    return moving_mnist(num_clips=count, num_frames=4, frame_size=16, channels=channels, seed=5)


@pytest.mark.parametrize("encoding, tolerance", [("png", 0.5 / 255), ("raw", 0.5 / 255), ("jpeg", 0.2)])
def test_round_trip(tmp_path, encoding, tolerance):
    paths = write_tfrecords(_clips(), str(tmp_path / "mm" / "train"), num_shards=3, encoding=encoding)
    assert [p.rsplit("/", 1)[-1] for p in paths] == [f"train-0000{i}-of-00003.tfrecord" for i in range(3)]
    restored = read_tfrecords(str(tmp_path / "mm" / "train-*"), deterministic=True)
    assert restored.element_spec.shape == (4, 16, 16, 1)
    original = np.stack(list(_clips().as_numpy_iterator()))
    restored = np.stack(list(restored.as_numpy_iterator()))
    assert restored.shape == original.shape
    # Shards are read interleaved: compare as a set of clips, each restored clip against its nearest original (a
    # lossy encoding can reorder clips whose sums are close, so sorting by sum is not a matching).
    distances = np.abs(restored[:, None] - original[None]).reshape(len(restored), len(original), -1).max(axis=-1)
    nearest = distances.argmin(axis=1)
    assert sorted(nearest.tolist()) == list(range(len(original)))  # A one-to-one matching.
    assert distances[np.arange(len(restored)), nearest].max() <= tolerance + 1e-6


def test_rgb_and_shape_from_first_record(tmp_path):
    write_tfrecords(_clips(2, channels=3), str(tmp_path / "rgb"), num_shards=1)
    dataset = read_tfrecords(str(tmp_path / "rgb-*"))
    assert dataset.element_spec.shape == (4, 16, 16, 3)
    assert len(list(dataset)) == 2


def test_wrong_shape_never_reaches_the_model(tmp_path):
    write_tfrecords(_clips(2), str(tmp_path / "clips"), num_shards=1)
    dataset = read_tfrecords(str(tmp_path / "clips-*"), num_frames=8)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"differs from the expected \(8, 16, 16, 1\)"):
        list(dataset)


def test_missing_files_and_bad_encoding(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-\\*"):
        read_tfrecords(str(tmp_path / "nothing-*"))
    with pytest.raises(ValueError, match="`encoding` must be one of 'png', 'jpeg', 'raw'"):
        write_tfrecords(_clips(1), str(tmp_path / "x"), encoding="webp")


def test_failed_write_leaves_no_shard(tmp_path):
    bad = _clips(2).map(lambda clip: tf.ensure_shape(tf.numpy_function(_raise, [clip], tf.float32), (4, 16, 16, 1)))
    with pytest.raises(Exception, match="boom"):
        write_tfrecords(bad, str(tmp_path / "bad"), num_shards=2)
    assert list(tmp_path.iterdir()) == []


def _raise(clip):
    raise RuntimeError("boom")
