"""Video datasets from TensorFlow Datasets, converted to tfvidgen clips.

Supported by name (the video feature is known): `moving_mnist` (the fixed
10,000 test sequences of 20x64x64x1 that papers report on; tfds has only a
`test` split), `bair_robot_pushing_small` (30x64x64x3 robot pushing) and
`ucf101` (variable-length 256x256x3 action videos). Any other tfds dataset with
a video feature works when its `feature` key is given.
"""

from tfvidgen import validation
from tfvidgen.data import transforms
from tfvidgen.lazy import tensorflow as tf
from tfvidgen.lazy import tensorflow_datasets as tfds

TFDS_VIDEO_FEATURES = {
    "moving_mnist": "image_sequence",
    "bair_robot_pushing_small": "image_main",
    "ucf101": "video",
}


def _feature_key(name, feature):
    if feature is not None:
        return feature
    base_name = name.split("/")[0].split(":")[0]
    if base_name not in TFDS_VIDEO_FEATURES:
        supported = ", ".join(sorted(TFDS_VIDEO_FEATURES))
        raise ValueError(
            f"Unknown tfds video dataset `name={name!r}`: expected one of {supported}, or "
            "pass `feature=` naming the video feature of another tfds dataset."
        )
    return TFDS_VIDEO_FEATURES[base_name]


def tfds_clips(
    name,
    split="train",
    num_frames=20,
    frame_size=64,
    channels=None,
    frame_step=1,
    clip_stride=None,
    resize="crop",
    feature=None,
    data_dir=None,
    try_gcs=False,
    download=False,
    shuffle_files=False,
    seed=0,
):
    """Clips from a tfds video dataset, as float32 in [0, 1].

    Args:
        name: tfds name, optionally with a config (`"ucf101/ucf101_1_256"`).
        split: tfds split string, slicing included (`"test[:90%]"`). Note
            `moving_mnist` has only `"test"`.
        num_frames: frames per clip.
        frame_size: output `(height, width)`, or an int.
        channels: 1 or 3; defaults to the dataset's own.
        frame_step: keep every `frame_step`-th frame.
        clip_stride: frames between clip starts inside one video; `None`
            takes one clip (the first frames) per video.
        resize: `"crop"`, `"pad"` or `"stretch"` (see `transforms.fit_box`).
        feature: the video feature key, for datasets not in
            `TFDS_VIDEO_FEATURES`.
        data_dir: tfds data directory (passed through).
        try_gcs: let tfds read prepared data from its public GCS bucket.
        download: let tfds download and prepare the data when missing.
        shuffle_files: shuffle tfds' shards (with `seed`).
        seed: int seed for file shuffling.

    Returns:
        A `tf.data.Dataset` of float32 `(num_frames, height, width, channels)`.
        Videos shorter than one clip's span are dropped.

    Example:

    >>> clips = tfds_clips("moving_mnist", split="test", num_frames=20)
    """
    feature_key = _feature_key(name, feature)
    num_frames = validation.positive_int("num_frames", num_frames)
    target_size = validation.frame_size("frame_size", frame_size)
    frame_step = validation.positive_int("frame_step", frame_step)
    if clip_stride is not None:
        clip_stride = validation.positive_int("clip_stride", clip_stride)
    validation.one_of("resize", resize, transforms.RESIZE_MODES)
    if channels is not None:
        channels = validation.channels("channels", channels)

    try:
        dataset = tfds.load(
            name,
            split=split,
            data_dir=data_dir,
            try_gcs=try_gcs,
            download=download,
            shuffle_files=shuffle_files,
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )
    except AssertionError as error:  # tfds' way of saying the data is not prepared.
        raise FileNotFoundError(
            f"tfds dataset {name!r} is not prepared in data_dir={data_dir!r} ({error}). "
            "Pass download=True on a machine with internet access, run `tfds build "
            f"{name}`, or pass try_gcs=True."
        ) from error

    element_spec = dataset.element_spec
    if feature_key not in element_spec:
        raise ValueError(
            f"tfds dataset {name!r} has no feature `feature={feature_key!r}`; its features are {sorted(element_spec)}."
        )
    source_channels = element_spec[feature_key].shape[-1]
    channels = channels or source_channels
    clip_shape = (num_frames,) + target_size + (channels,)

    def to_clips(example):
        video = example[feature_key]
        windows = transforms.temporal_windows_tf(video, num_frames, frame_step, clip_stride)
        shape = tf.shape(windows)
        frames = tf.reshape(windows, tf.concat([[-1], shape[2:]], axis=0))
        frames = transforms.resize_frames_tf(frames, target_size, resize)
        frames = transforms.convert_channels_tf(frames, channels)
        clips = tf.reshape(frames / 255.0, tf.concat([[shape[0]], clip_shape], axis=0))
        return tf.clip_by_value(clips, 0.0, 1.0)

    dataset = dataset.map(to_clips, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.unbatch()
    return dataset.map(lambda clip: tf.ensure_shape(clip, clip_shape), num_parallel_calls=tf.data.AUTOTUNE)
