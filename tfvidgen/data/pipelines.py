"""From clips to what each model trains on, and one entry point for every source.

`load_clips("moving_mnist" | "tfds:NAME" | "tfrecord:PATTERN" | video glob/dir)`
gives float32 clips; `prediction_pairs` turns clips into `(context, target)`
pairs for the ConvLSTM predictor; `interpolation_triplets` turns them into
`(neighbours, middle)` pairs for the frame interpolator; `batch_dataset` adds shuffling, caching,
batching and prefetching. The GAN and VAE train on batched clips directly.
"""

from tfvidgen.lazy import tensorflow as tf

from tfvidgen import validation
from tfvidgen.data.moving_mnist import moving_mnist
from tfvidgen.data.tfds_videos import tfds_clips
from tfvidgen.data.tfrecords import read_tfrecords
from tfvidgen.data.video_files import VideoClips

SPLITS = ("train", "validation", "test")
# Sources whose clips come with class labels (`load_clips(..., with_labels=True)`): Moving MNIST, its digits.
LABELLED_SOURCES = ("moving_mnist",)


def prediction_pairs(clips, context_frames, future_frames=None):
    """Maps clips to `(context, target)` pairs.

    Args:
        clips: a dataset of `(frames, height, width, channels)` clips (or
            dicts with a `"frames"` key).
        context_frames: frames the model sees.
        future_frames: frames it must predict; defaults to the rest of the clip.

    Returns:
        A dataset of `(context, target)`, shapes `(context_frames, H, W, C)` and
        `(future_frames, H, W, C)`.
    """
    context_frames = validation.positive_int("context_frames", context_frames)
    if isinstance(clips.element_spec, dict):
        clips = clips.map(lambda element: element["frames"], num_parallel_calls=tf.data.AUTOTUNE)
    total = clips.element_spec.shape[0]
    if total is None:
        raise ValueError(
            "`clips` must have a static number of frames to split into context and target. "
            f"Received: element shape {clips.element_spec.shape}"
        )
    if future_frames is None:
        future_frames = total - context_frames
    future_frames = validation.positive_int("future_frames", future_frames)
    if context_frames + future_frames > total:
        raise ValueError(
            f"`context_frames` + `future_frames` ({context_frames} + {future_frames}) must not "
            f"exceed the clip length {total}. Received: context_frames={context_frames}, future_frames={future_frames}"
        )
    return clips.map(
        lambda clip: (clip[:context_frames], clip[context_frames : context_frames + future_frames]),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def interpolation_triplets(clips, gap=1):
    """Maps clips to `(neighbours, middle)` pairs, one per frame triplet.

    Every frame `t` with `t + 2 * gap` in the clip gives the neighbours
    `(frame t, frame t + 2 * gap)` and the middle `frame t + gap` (`gap` > 1
    trains for larger motions, as from footage at a lower frame rate).

    Args:
        clips: a dataset of `(frames, height, width, channels)` clips (or
            dicts with a `"frames"` key), any number of frames; clips shorter
            than `2 * gap + 1` frames give nothing.
        gap: frames from a neighbour to the middle.

    Returns:
        A dataset of `(neighbours, middle)`, shapes `(2, H, W, C)` and
        `(H, W, C)`, in clip then frame order.
    """
    gap = validation.positive_int("gap", gap)
    if isinstance(clips.element_spec, dict):
        clips = clips.map(lambda element: element["frames"], num_parallel_calls=tf.data.AUTOTUNE)
    if clips.element_spec.shape.rank != 4:
        raise ValueError(
            "`clips` must yield (frames, height, width, channels) clips. "
            f"Received: element shape {clips.element_spec.shape}"
        )

    def triplets(clip):
        count = tf.maximum(tf.shape(clip)[0] - 2 * gap, 0)
        neighbours = tf.stack([clip[:count], clip[2 * gap : 2 * gap + count]], axis=1)
        return tf.data.Dataset.from_tensor_slices((neighbours, clip[gap : gap + count]))

    return clips.flat_map(triplets)


def batch_dataset(
    dataset,
    batch_size,
    shuffle_buffer=None,
    seed=None,
    cache=False,
    repeat=False,
    drop_remainder=True,
):
    """Shuffles, caches, batches and prefetches a dataset for training.

    Args:
        dataset: a `tf.data.Dataset`.
        batch_size: global batch size.
        shuffle_buffer: shuffle buffer size; `None` or 0 for no shuffling.
        seed: shuffle seed.
        cache: `True` to cache in memory, a path to cache on disk, `False` for none.
        repeat: repeat forever (use `steps_per_epoch` in `fit`).
        drop_remainder: drop the last partial batch, which keeps shapes static
            (needed on TPUs and for the distributed first-update checks).

    Returns:
        The batched, prefetched dataset.
    """
    batch_size = validation.positive_int("batch_size", batch_size)
    if cache:
        dataset = dataset.cache() if cache is True else dataset.cache(str(cache))
    if repeat:
        dataset = dataset.repeat()
    if shuffle_buffer:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def describe_source(spec):
    """Parses a data spec into `(kind, argument)`.

    `"moving_mnist"` (or `"moving_mnist:mnist"` for real MNIST digits),
    `"tfds:NAME[/CONFIG]"`, `"tfrecord:PATTERN"` (or a path ending in
    `.tfrecord`), anything else is a video file, directory or glob.
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"`data` must be a non-empty string. Received: data={spec!r}")
    if spec == "moving_mnist" or spec.startswith("moving_mnist:"):
        digits = spec.partition(":")[2] or "glyphs"
        return "moving_mnist", digits
    if spec.startswith("tfds:"):
        return "tfds", spec[len("tfds:") :]
    if spec.startswith("tfrecord:"):
        return "tfrecord", spec[len("tfrecord:") :]
    if spec.endswith(".tfrecord") or spec.endswith(".tfrecord*") or ".tfrecord" in spec.rsplit("/", 1)[-1]:
        return "tfrecord", spec
    return "videos", spec


def load_clips(
    spec,
    num_frames,
    frame_size,
    channels,
    split="train",
    num_clips=None,
    seed=0,
    with_labels=False,
    **source_options,
):
    """One entry point for every clip source.

    Args:
        spec: see `describe_source`.
        num_frames, frame_size, channels: the clip shape to produce.
        split: `"train"`, `"validation"` or `"test"`. Each source keeps its
            splits disjoint: Moving MNIST by random stream and digit images,
            video files by file name hash, TFRecords by the split name in the
            pattern (`{split}` is substituted), tfds by its own splits
            (`moving_mnist` has only a test split: train and validation take
            disjoint slices of it).
        num_clips: stop after this many clips (`None`: all, or infinite for
            Moving MNIST).
        seed: int seed.
        with_labels: yield `(clip, labels)` pairs, the labels int32
            `(num_digits,)` (the digits of a Moving MNIST clip); only for
            `LABELLED_SOURCES` (`has_labels(spec)`).
        **source_options: passed to the source function (`moving_mnist`,
            `tfds_clips`, `read_tfrecords` or `VideoClips`).

    Returns:
        A `tf.data.Dataset` of float32 `(num_frames, height, width, channels)`
        (or `(clip, labels)` pairs, see `with_labels`).
    """
    validation.one_of("split", split, SPLITS)
    kind, argument = describe_source(spec)
    if with_labels and kind not in LABELLED_SOURCES:
        raise ValueError(
            f"`data={spec!r}` is a {kind} source, whose clips have no labels; labelled sources: "
            f"{', '.join(LABELLED_SOURCES)}. Received: with_labels=True"
        )
    if kind == "moving_mnist":
        dataset = moving_mnist(
            num_clips=num_clips,
            num_frames=num_frames,
            frame_size=frame_size,
            channels=channels,
            digits=argument,
            split=split,
            seed=seed,
            return_metadata=with_labels,
            **source_options,
        )
        if with_labels:
            dataset = dataset.map(
                lambda element: (element["frames"], element["labels"]), num_parallel_calls=tf.data.AUTOTUNE
            )
        return dataset
    if kind == "tfds":
        tfds_split = source_options.pop("tfds_split", None) or _tfds_split(argument, split)
        dataset = tfds_clips(
            argument,
            split=tfds_split,
            num_frames=num_frames,
            frame_size=frame_size,
            channels=channels,
            seed=seed,
            **source_options,
        )
    elif kind == "tfrecord":
        dataset = read_tfrecords(
            argument.replace("{split}", split),
            num_frames=num_frames,
            frame_size=frame_size,
            channels=channels,
            seed=seed,
            **source_options,
        )
    else:
        dataset = VideoClips(
            argument, num_frames, frame_size, channels=channels, split=split, seed=seed, **source_options
        ).dataset()
    return dataset if num_clips is None else dataset.take(num_clips)


def has_labels(spec):
    """Whether the clips of data source `spec` come with class labels (`LABELLED_SOURCES`: Moving MNIST's digits)."""
    return describe_source(spec)[0] in LABELLED_SOURCES


def _tfds_split(name, split):
    if name.split("/")[0] == "moving_mnist" and split != "test":
        raise ValueError(
            "tfds `moving_mnist` holds only the 10,000 fixed test sequences that papers report "
            f"on, so it has no {split!r} split. Train on the built-in generator "
            "(data='moving_mnist') and evaluate on 'tfds:moving_mnist' with split='test', or "
            "pass tfds_split='test[:80%]' (say) to slice it yourself."
        )
    return split
