"""Clips as sharded TFRecord files: the input path for GCS buckets and TPUs.

Each record is a `tf.train.Example` with
- `clip/frames`: one encoded image per frame (PNG or JPEG), or one
  `tf.io.serialize_tensor` of the uint8 clip for `encoding="raw"`;
- `clip/shape`: `[frames, height, width, channels]`;
- `clip/encoding`: `b"png"`, `b"jpeg"` or `b"raw"`.
Shards are written under temporary names and renamed when complete, so a
reader never picks up a half-written shard.
"""

import os

from tfvidgen.lazy import tensorflow as tf

from tfvidgen import validation

ENCODINGS = ("png", "jpeg", "raw")


def _bytes_feature(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def _int_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def shard_paths(output_prefix, num_shards):
    """The file names `write_tfrecords` writes for `output_prefix`."""
    return [f"{output_prefix}-{index:05d}-of-{num_shards:05d}.tfrecord" for index in range(num_shards)]


def write_tfrecords(clips, output_prefix, num_shards=4, encoding="png", jpeg_quality=95):
    """Writes a dataset of clips to sharded TFRecord files.

    Args:
        clips: a `tf.data.Dataset` of float32 clips `(frames, height, width,
            channels)` in [0, 1] (or a dataset of dicts with a `"frames"` key).
        output_prefix: path prefix (local or `gs://`); shards are named
            `{prefix}-00000-of-00004.tfrecord`.
        num_shards: number of files; clips are dealt to them round-robin.
        encoding: `"png"` (lossless), `"jpeg"` (small, lossy) or `"raw"`.
        jpeg_quality: JPEG quality, 1 to 100.

    Returns:
        The list of shard paths written.
    """
    num_shards = validation.positive_int("num_shards", num_shards)
    validation.one_of("encoding", encoding, ENCODINGS)
    if isinstance(clips.element_spec, dict):
        clips = clips.map(lambda element: element["frames"])
    if len(clips.element_spec.shape) != 4:
        raise ValueError(
            "`clips` must yield (frames, height, width, channels) tensors. Received element "
            f"shape {clips.element_spec.shape}."
        )

    def encode(clip):
        frames = tf.cast(tf.round(tf.clip_by_value(clip, 0.0, 1.0) * 255.0), tf.uint8)
        shape = tf.shape(frames, out_type=tf.int64)
        if encoding == "raw":
            return tf.reshape(tf.io.serialize_tensor(frames), [1]), shape
        if encoding == "png":
            encode_frame = tf.io.encode_png
        else:

            def encode_frame(frame):
                return tf.io.encode_jpeg(frame, quality=jpeg_quality)

        encoded = tf.map_fn(encode_frame, frames, fn_output_signature=tf.string)
        return encoded, shape

    directory = os.path.dirname(output_prefix)
    if directory:
        tf.io.gfile.makedirs(directory)
    paths = shard_paths(output_prefix, num_shards)
    temporary_paths = [f"{path}.incomplete" for path in paths]
    writers = [tf.io.TFRecordWriter(path) for path in temporary_paths]
    try:
        encoded_clips = clips.map(encode, num_parallel_calls=tf.data.AUTOTUNE)
        for index, (frames, shape) in enumerate(encoded_clips.as_numpy_iterator()):
            example = tf.train.Example(
                features=tf.train.Features(
                    feature={
                        "clip/frames": _bytes_feature(list(frames)),
                        "clip/shape": _int_feature(list(shape)),
                        "clip/encoding": _bytes_feature([encoding.encode("ascii")]),
                    }
                )
            )
            writers[index % num_shards].write(example.SerializeToString())
    except BaseException:
        for writer, path in zip(writers, temporary_paths):
            writer.close()
            tf.io.gfile.remove(path)
        raise
    for writer, temporary, path in zip(writers, temporary_paths, paths):
        writer.close()
        tf.io.gfile.rename(temporary, path, overwrite=True)
    return paths


def _features():
    """The record's feature spec (a function: TensorFlow is imported on first use)."""
    return {
        "clip/frames": tf.io.VarLenFeature(tf.string),
        "clip/shape": tf.io.FixedLenFeature([4], tf.int64),
        "clip/encoding": tf.io.FixedLenFeature([], tf.string),
    }


def _stored_shape(path):
    record = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
    if record is None:
        raise ValueError(f"TFRecord file {path!r} holds no record.")
    parsed = tf.io.parse_single_example(record, _features())
    return tuple(int(value) for value in parsed["clip/shape"].numpy())


def read_tfrecords(
    file_pattern,
    num_frames=None,
    frame_size=None,
    channels=None,
    shuffle_files=False,
    seed=0,
    cycle_length=None,
    deterministic=True,
):
    """Reads clips written by `write_tfrecords`, with parallel interleave.

    Args:
        file_pattern: a glob (local or `gs://`) or a list of files.
        num_frames, frame_size, channels: the clip shape expected. Any left
            `None` is read from the first record. A record of another shape
            fails with an error naming both shapes: a wrong clip never reaches
            a model.
        shuffle_files: shuffle the shard order (with `seed`).
        seed: int seed for `shuffle_files`.
        cycle_length: shards read at once; defaults to the CPU count.
        deterministic: keep a reproducible order (turn off for throughput).

    Returns:
        A `tf.data.Dataset` of float32 clips in [0, 1].
    """
    patterns = [file_pattern] if isinstance(file_pattern, (str, os.PathLike)) else list(file_pattern)
    files = sorted(path for pattern in patterns for path in tf.io.gfile.glob(os.fspath(pattern)))
    if not files:
        raise FileNotFoundError(f"The TFRecord pattern {file_pattern!r} matches no file.")
    stored = _stored_shape(files[0])
    num_frames = stored[0] if num_frames is None else validation.positive_int("num_frames", num_frames)
    height, width = stored[1:3] if frame_size is None else validation.frame_size("frame_size", frame_size)
    channels = stored[3] if channels is None else validation.channels("channels", channels)
    clip_shape = (num_frames, height, width, channels)

    def parse(record):
        parsed = tf.io.parse_single_example(record, _features())
        encoded = tf.sparse.to_dense(parsed["clip/frames"])
        shape = parsed["clip/shape"]
        check = tf.debugging.assert_equal(
            shape,
            tf.constant(clip_shape, tf.int64),
            message=f"TFRecord clip shape differs from the expected {clip_shape}",
        )
        with tf.control_dependencies([check]):
            frames = tf.cond(
                tf.equal(parsed["clip/encoding"], b"raw"),
                lambda: tf.io.parse_tensor(encoded[0], tf.uint8),
                lambda: tf.map_fn(
                    lambda image: tf.io.decode_image(image, channels=channels, expand_animations=False),
                    encoded,
                    fn_output_signature=tf.TensorSpec((None, None, channels), tf.uint8),
                ),
            )
        frames = tf.ensure_shape(tf.reshape(frames, clip_shape), clip_shape)
        return tf.cast(frames, tf.float32) / 255.0

    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_files:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(cycle_length or os.cpu_count() or 1, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic,
    )
    return dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
