"""The data half of `tfvidgen train`: a run's training and validation batches from its `--data` source.

Under TensorFlow, and for the sources only tf.data reads (tfds, TFRecords), they are `tf.data` datasets; on JAX
from video files, `tfvidgen.data.ClipBatches` (NumPy, no TensorFlow), and Moving MNIST is rendered on the device
(`DeviceMovingMNIST`). A source that gives no
clip fails here, before the run directory is written.

A model whose `trains_on_labels` is set (a class-conditional one) gets `(clips, labels)` from a source with labels
(`tfvidgen.data.LABELLED_SOURCES`: Moving MNIST, int32 `(num_digits,)` per clip) on every path, and clips alone from
the others (video files: it trains unconditionally).
"""

import keras
import numpy as np

from tfvidgen import data as data_lib
from tfvidgen.data import clip_batches
from tfvidgen.data import device_moving_mnist
from tfvidgen.data import video_files


def _clip_spec(model, training):
    """`(frames, (height, width), channels)` of the clips to read, as the model's role asks for them."""
    shape = tuple(model.training_clip_shape(training))
    return shape[0], shape[1:3], shape[3]


def _video_source_options(args):
    kind = data_lib.describe_source(args.data)[0]
    return {"split_by": args.split_by} if kind == "videos" else {}


def with_labels(model, args):
    """Whether the run feeds `(clips, labels)`: the model asks for labels and the source has them."""
    return bool(getattr(model, "trains_on_labels", False)) and data_lib.has_labels(args.data)


def describe_split(args):
    """How the data source keeps train, validation and test apart (for config.json)."""
    kind = data_lib.describe_source(args.data)[0]
    if kind == "videos":
        files = video_files.resolve_video_paths(data_lib.describe_source(args.data)[1])
        return {"by": video_files.split_mode(files, args.split_by), "files": len(files)}
    return {"by": {"moving_mnist": "random stream", "tfds": "tfds split", "tfrecord": "{split} in the pattern"}[kind]}


def _first(dataset, what, args):
    """The first element, or a ValueError naming the source when it yields none."""
    for element in dataset.take(1):
        return element
    raise ValueError(video_files.no_clip_message(what, args.data))


def uses_tf_data(args):
    """tf.data under TensorFlow, and for the sources only tf.data reads (tfds, TFRecords); else NumPy batches."""
    return (
        keras.backend.backend() == "tensorflow"
        or data_lib.describe_source(args.data)[0] not in clip_batches.NUMPY_SOURCES
    )


def _load_splits(load, family, model, args, training):
    """`(train, validation)` clips from `load` (`load_clips` or `numpy_clips`); validation None for 0 clips."""
    num_frames, frame_size, channels = _clip_spec(model, training)
    options = _video_source_options(args)
    if with_labels(model, args):
        options["with_labels"] = True
    train = load(args.data, num_frames, frame_size, channels, split="train", seed=args.seed, **options)
    validation = None
    if args.validation_clips:
        validation = load(
            args.data,
            num_frames,
            frame_size,
            channels,
            split="validation",
            num_clips=args.validation_clips,
            seed=args.seed,
            **options,
        )
    return train, validation


def build_numpy_batches(family, model, args, training):
    """`ClipBatches` for training and validation (None for --validation-clips 0): no TensorFlow needed."""
    if not model.numpy_training:
        raise ValueError(
            f"The {family} family trains on TensorFlow only (its examples come from tf.data); use --backend tensorflow."
        )
    batch_size = args.batch_size or training["batch_size"]
    train, validation = _load_splits(clip_batches.numpy_clips, family, model, args, training)
    steps = args.steps_per_epoch or training["steps_per_epoch"]
    kind, digits = data_lib.describe_source(args.data)
    if kind == "moving_mnist" and keras.backend.backend() == "jax":
        # Rendered on the accelerator: the step never waits for NumPy.
        num_frames, frame_size, channels = _clip_spec(model, training)
        train = device_moving_mnist.DeviceMovingMNIST(
            batch_size,
            steps,
            num_frames,
            frame_size,
            channels,
            digits=digits,
            seed=args.seed,
            labels=with_labels(model, args),
        )
    else:
        train = clip_batches.ClipBatches(train, batch_size, steps=steps, seed=args.seed)
    if validation is not None:
        count = len(validation[0] if isinstance(validation, tuple) else validation)  # Clips, or (clips, labels).
        validation = clip_batches.ClipBatches(validation, min(batch_size, count), shuffle=False)
    return train, validation


def build_datasets(family, model, args, training):
    """Training and validation datasets shaped for the model; validation is None for --validation-clips 0.

    Raises:
        ValueError: when the source gives no training (or validation) clip, naming the files and why.
    """
    if not uses_tf_data(args):
        return build_numpy_batches(family, model, args, training)
    import tensorflow as tf

    batch_size = args.batch_size or training["batch_size"]
    finite = data_lib.describe_source(args.data)[0] != "moving_mnist"
    train, validation = _load_splits(data_lib.load_clips, family, model, args, training)
    # The predictors and generative models are fed whole clips; the ConvLSTM splits them
    # into context and target in its train_step. (A (context, target) tuple also works
    # with fit, except under MultiWorkerMirroredStrategy: Keras 3.15's first-batch build
    # calls strategy.reduce on the batch, which fails there for a tuple.)
    shuffle_buffer = 256 if finite else None
    # What the role trains on, from the clips (the interpolator's triplets); whole clips by default.
    train, examples_buffer = model.training_examples(train, training)
    validation = None if validation is None else model.training_examples(validation, training)[0]
    if examples_buffer is not None:
        shuffle_buffer = examples_buffer
    _first(train, "training", args)
    train = data_lib.batch_dataset(train, batch_size, shuffle_buffer=shuffle_buffer, seed=args.seed, repeat=finite)
    if validation is not None:
        # Held in memory (a few clips): a known length, so Keras knows when validation ends instead of
        # warning that the input "ran out of data"; few clips (one short video) make a partial batch.
        elements = list(validation.as_numpy_iterator())
        if not elements:
            raise ValueError(video_files.no_clip_message("validation", args.data))
        validation = tf.data.Dataset.from_tensor_slices(
            tf.nest.map_structure(lambda *parts: np.stack(parts), *elements)
        )
        validation = data_lib.batch_dataset(validation, min(batch_size, len(elements)), drop_remainder=False)
    return train, validation
