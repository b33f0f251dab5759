import numpy as np
import pytest

from tfvidgen.data import batch_dataset
from tfvidgen.data import describe_source
from tfvidgen.data import load_clips
from tfvidgen.data import moving_mnist
from tfvidgen.data import prediction_pairs
from tfvidgen.data import write_tfrecords


def test_prediction_pairs_split_each_clip():
    clips = moving_mnist(num_clips=3, num_frames=6, frame_size=16, seed=1)
    pairs = prediction_pairs(clips, context_frames=4)
    context, target = next(iter(pairs))
    assert context.shape == (4, 16, 16, 1) and target.shape == (2, 16, 16, 1)
    clip = next(iter(clips)).numpy()
    np.testing.assert_array_equal(context.numpy(), clip[:4])
    np.testing.assert_array_equal(target.numpy(), clip[4:])
    context, target = next(iter(prediction_pairs(clips, 2, future_frames=3)))
    assert target.shape[0] == 3


def test_prediction_pairs_bad_lengths():
    clips = moving_mnist(num_clips=1, num_frames=6, frame_size=16)
    with pytest.raises(ValueError, match="must not exceed the clip length 6"):
        prediction_pairs(clips, 4, future_frames=3)
    with pytest.raises(ValueError, match="`future_frames`"):
        prediction_pairs(clips, 6)


def test_batch_dataset_static_shapes_and_shuffle():
    clips = moving_mnist(num_clips=10, num_frames=4, frame_size=16, seed=2)
    batched = batch_dataset(clips, 4, drop_remainder=True)
    assert batched.element_spec.shape == (4, 4, 16, 16, 1)
    assert len(list(batched)) == 2  # 10 clips, remainder of 2 dropped.
    shuffled = np.concatenate(list(batch_dataset(clips, 5, shuffle_buffer=10, seed=0).as_numpy_iterator()))
    ordered = np.concatenate(list(batch_dataset(clips, 5).as_numpy_iterator()))
    assert not np.array_equal(shuffled, ordered)
    np.testing.assert_allclose(np.sort(shuffled.sum(axis=(1, 2, 3, 4))), np.sort(ordered.sum(axis=(1, 2, 3, 4))))
    repeated = batch_dataset(clips, 4, repeat=True, cache=True)
    assert len(list(repeated.take(7))) == 7


def test_describe_source():
    assert describe_source("moving_mnist") == ("moving_mnist", "glyphs")
    assert describe_source("moving_mnist:mnist") == ("moving_mnist", "mnist")
    assert describe_source("tfds:ucf101/ucf101_1_256") == ("tfds", "ucf101/ucf101_1_256")
    assert describe_source("tfrecord:gs://bucket/train-*") == ("tfrecord", "gs://bucket/train-*")
    assert describe_source("data/train-00000-of-00004.tfrecord") == ("tfrecord", "data/train-00000-of-00004.tfrecord")
    assert describe_source("videos/*.mp4") == ("videos", "videos/*.mp4")
    with pytest.raises(ValueError, match="`data` must be a non-empty string"):
        describe_source("")


def test_load_clips_from_every_source_kind(tmp_path, video_dir):
    generated = load_clips("moving_mnist", 4, 16, 1, num_clips=3)
    assert [clip.shape for clip in generated] == [(4, 16, 16, 1)] * 3
    for split in ("train", "test"):
        write_tfrecords(moving_mnist(num_clips=2, num_frames=4, frame_size=16, split=split), str(tmp_path / split))
    records = load_clips(f"tfrecord:{tmp_path}/{{split}}-*", 4, 16, 1, split="test")
    assert len(list(records)) == 2
    videos = load_clips(str(video_dir / "long.mp4"), 4, 16, 3, num_clips=2, split="train", split_fractions=(1, 0, 0))
    assert [clip.shape for clip in videos] == [(4, 16, 16, 3)] * 2


def test_generated_splits_do_not_overlap():
    train = np.stack(list(load_clips("moving_mnist", 4, 16, 1, split="train", num_clips=20).as_numpy_iterator()))
    held_out = np.stack(
        list(load_clips("moving_mnist", 4, 16, 1, split="validation", num_clips=20).as_numpy_iterator())
    )
    train_keys = {clip.tobytes() for clip in train}
    assert not any(clip.tobytes() in train_keys for clip in held_out)
