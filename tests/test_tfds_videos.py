import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfvidgen.data import load_clips
from tfvidgen.data import tfds_clips


def _mock(num_examples=3):
    return tfds.testing.mock_data(num_examples=num_examples, policy=tfds.testing.MockPolicy.USE_CODE)


def test_moving_mnist_test_split(tmp_path):
    with _mock():
        clips = list(tfds_clips("moving_mnist", split="test", num_frames=10, frame_size=16, data_dir=str(tmp_path)))
    assert len(clips) == 3
    assert clips[0].shape == (10, 16, 16, 1) and clips[0].dtype == tf.float32
    values = np.stack(clips)
    assert 0.0 <= values.min() and values.max() <= 1.0 and values.std() > 0.01


def test_bair_frames_windows_and_channels(tmp_path):
    with _mock(2):
        # 30-frame videos, span (4 - 1) * 2 + 1 = 7, stride 7: 4 clips per video.
        clips = list(
            tfds_clips(
                "bair_robot_pushing_small",
                split="train",
                num_frames=4,
                frame_size=(8, 12),
                frame_step=2,
                clip_stride=7,
                channels=1,
                data_dir=str(tmp_path),
            )
        )
    assert len(clips) == 8
    assert clips[0].shape == (4, 8, 12, 1)


def test_features_are_decoded_from_the_right_key_with_resize(tmp_path):
    video = np.tile(np.linspace(0, 255, 64, dtype=np.float32)[None, None, :, None], (20, 64, 1, 1))

    def as_dataset(self, *args, **kwargs):
        return tf.data.Dataset.from_tensors({"image_sequence": tf.constant(video.astype(np.uint8))})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        clip = next(
            iter(tfds_clips("moving_mnist", split="test", num_frames=20, frame_size=16, data_dir=str(tmp_path)))
        )
    # A left-to-right ramp stays a ramp after resizing 64 -> 16.
    row = clip.numpy()[0, 8, :, 0]
    assert np.all(np.diff(row) > 0) and row[0] < 0.1 and row[-1] > 0.9


def test_ucf101_variable_length_videos(tmp_path):
    with _mock(2):
        clips = list(tfds_clips("ucf101", split="train", num_frames=2, frame_size=8, data_dir=str(tmp_path)))
    assert all(clip.shape == (2, 8, 8, 3) for clip in clips)


def test_unknown_dataset_and_bad_feature(tmp_path):
    with pytest.raises(ValueError, match="Unknown tfds video dataset `name='kinetics'`"):
        tfds_clips("kinetics", data_dir=str(tmp_path))
    with _mock(1):
        with pytest.raises(ValueError, match="no feature `feature='frames'`"):
            tfds_clips("moving_mnist", split="test", feature="frames", data_dir=str(tmp_path))


def test_unprepared_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        tfds_clips("moving_mnist", split="test", data_dir=str(tmp_path))


def test_load_clips_refuses_a_train_split_of_the_moving_mnist_test_set(tmp_path):
    with pytest.raises(ValueError, match="only the 10,000 fixed test sequences"):
        load_clips("tfds:moving_mnist", 10, 16, 1, split="train", data_dir=str(tmp_path))
