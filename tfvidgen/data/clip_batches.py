"""Batches of clips without `tf.data`: a `keras.utils.PyDataset` for any backend, no TensorFlow needed.

`tf.data` is the input path at scale under TensorFlow. On JAX, where a GPU box
may have no TensorFlow at all, the same sources feed `fit` from NumPy: Moving
MNIST rendered per batch (an endless, reproducible stream) and clips decoded
from video files with OpenCV (held in memory and reshuffled every epoch).
"""

import keras
import numpy as np

from tfvidgen import validation
from tfvidgen.data import digits as digit_sources
from tfvidgen.data import moving_mnist as moving_mnist_lib
from tfvidgen.data import pipelines
from tfvidgen.data import video_files

NUMPY_SOURCES = ("moving_mnist", "videos")


class ClipBatches(keras.utils.PyDataset):
    """`steps` batches of float32 clips `(batch, frames, height, width, channels)` in [0, 1] per epoch.

    Args:
        clips: a float32 array of clips (a finite source: shuffled each epoch
            when `shuffle`, the last partial batch kept), or a function
            `(rng, batch_size) -> clips` (an endless source rendered per batch).
            A tuple `(clips, labels)` of arrays (the labels one row per clip),
            or a function returning one, gives `(clips, labels)` batches.
        batch_size: clips per batch.
        steps: batches per epoch; defaults to all the clips of a finite source.
        shuffle: reshuffle a finite source's clips every epoch.
        seed: int seed of the shuffles and of the rendered batches: batch `i`
            of epoch `e` is the same in every run.

    Example:

    >>> batches = ClipBatches(np.zeros((10, 4, 16, 16, 1), "float32"), batch_size=4)
    >>> len(batches), batches[2].shape
    (3, (2, 4, 16, 16, 1))
    """

    def __init__(self, clips, batch_size, steps=None, shuffle=True, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = validation.positive_int("batch_size", batch_size)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.epoch = 0
        if callable(clips):
            if steps is None:
                raise ValueError("An endless clip source needs `steps` (batches per epoch). Received: steps=None")
            self.render, self.clips = clips, None
        else:
            clips, *self.labels = clips if isinstance(clips, tuple) else (clips,)
            self.render, self.clips = None, np.asarray(clips, "float32")
            self.labels = [np.asarray(labels) for labels in self.labels]  # [] or [labels]: one row per clip.
            if not len(self.clips):
                raise ValueError("`clips` holds no clip: there is nothing to train on.")
            if any(len(labels) != len(self.clips) for labels in self.labels):
                raise ValueError(
                    f"`clips` and their labels must have one row per clip. Received: {len(self.clips)} clips and "
                    f"{len(self.labels[0])} labels"
                )
            steps = steps or -(-len(self.clips) // self.batch_size)
        self.steps = validation.positive_int("steps", steps)
        self._order = self._shuffled_order()

    def _shuffled_order(self):
        if self.clips is None:
            return None
        order = np.arange(len(self.clips))
        if self.shuffle:
            np.random.default_rng([self.seed, self.epoch]).shuffle(order)
        return order

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        if self.render is not None:
            return self.render(np.random.default_rng([self.seed, self.epoch, index]), self.batch_size)
        per_epoch = -(-len(self.clips) // self.batch_size)
        start = (index % per_epoch) * self.batch_size
        chosen = self._order[start : start + self.batch_size]
        if self.labels:
            return (self.clips[chosen],) + tuple(labels[chosen] for labels in self.labels)
        return self.clips[chosen]

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._shuffled_order()


def numpy_clips(
    spec, num_frames, frame_size, channels, split="train", num_clips=None, seed=0, with_labels=False, **source_options
):
    """Clips of a NumPy source: a float32 array, or for endless Moving MNIST a `(rng, n) -> clips` renderer.

    Args:
        spec: `"moving_mnist"` (`"moving_mnist:mnist"`) or video files (see
            `tfvidgen.data.describe_source`); `tfds:` and TFRecord sources need
            `tf.data` (TensorFlow).
        num_frames, frame_size, channels: the clip shape.
        split: `"train"`, `"validation"` or `"test"`, kept apart as
            `load_clips` keeps them (the same digit banks and file/time splits).
        num_clips: clips to return (`None`: every clip of the videos; an
            endless renderer for Moving MNIST).
        seed: int seed.
        with_labels: `(clips, labels)` instead of clips, the labels int32
            `(n, num_digits)` (Moving MNIST's digits; `pipelines.LABELLED_SOURCES`).
        **source_options: passed to `VideoClips` (e.g. `split_by`).

    Raises:
        ValueError: for a source that needs TensorFlow, or video files that give no clip.
    """
    kind, argument = pipelines.describe_source(spec)
    if kind not in NUMPY_SOURCES:
        raise ValueError(
            f"`data={spec!r}` is a {kind} source, which is read with tf.data and needs TensorFlow; without it, "
            "train on 'moving_mnist' or on video files."
        )
    if with_labels and kind not in pipelines.LABELLED_SOURCES:
        raise ValueError(
            f"`data={spec!r}` is a {kind} source, whose clips have no labels; labelled sources: "
            f"{', '.join(pipelines.LABELLED_SOURCES)}. Received: with_labels=True"
        )
    height, width = validation.frame_size("frame_size", frame_size)
    channels = validation.channels("channels", channels)
    if kind == "moving_mnist":
        images, labels = moving_mnist_lib.digit_bank(
            argument, split, moving_mnist_lib.default_digit_size(height, width)
        )
        split_index = digit_sources.SPLITS.index(split)

        def render(rng, count):
            frames, clip_labels, _ = moving_mnist_lib.generate_moving_digits(
                rng,
                images,
                labels,
                count,
                num_frames,
                (height, width),
                moving_mnist_lib.NUM_DIGITS,
                moving_mnist_lib.SPEED_RANGE,
            )
            frames = frames[..., None].astype("float32") / 255.0
            frames = np.repeat(frames, 3, axis=-1) if channels == 3 else frames
            return (frames, clip_labels) if with_labels else frames

        if num_clips is None:
            return render
        return render(np.random.default_rng([seed, split_index, 1_000_000]), num_clips)
    clips_source = video_files.VideoClips(
        argument, num_frames, (height, width), channels=channels, split=split, seed=seed, **source_options
    )
    clips = []
    for path in clips_source.files:
        for clip in clips_source.iter_file(path):
            clips.append(clip)
            if num_clips is not None and len(clips) >= num_clips:
                break
        if num_clips is not None and len(clips) >= num_clips:
            break
    if not clips:
        raise ValueError(video_files.no_clip_message(split, spec))
    return np.stack(clips).astype("float32") / 255.0
