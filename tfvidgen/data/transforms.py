"""Frame and clip transforms shared by the data sources.

Each source converts its frames to the package's convention, float32
`(frames, height, width, channels)` in [0, 1], through these functions, so a
video file decoded by OpenCV and a tfds video come out resized and cropped the
same way.
"""

from tfvidgen.lazy import tensorflow as tf

from tfvidgen import frames as frame_geometry

# The NumPy/OpenCV geometry lives in `tfvidgen.frames` (no TensorFlow needed there).
RESIZE_MODES = frame_geometry.RESIZE_MODES
fit_box = frame_geometry.fit_box
resize_frame_numpy = frame_geometry.resize_frame_numpy


def resize_frames_tf(frames, target_size, mode="crop"):
    """Resizes `(frames, height, width, channels)` with TensorFlow ops.

    The geometry is `fit_box`'s, computed in-graph so dynamic sizes work.
    Returns float32 values on the input's scale.
    """
    target_height, target_width = target_size
    frames = tf.cast(frames, tf.float32)
    if mode == "stretch":
        return tf.image.resize(frames, (target_height, target_width), antialias=True)
    if mode == "pad":
        return tf.image.resize_with_pad(frames, target_height, target_width, antialias=True)
    shape = tf.shape(frames)
    source_height, source_width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    scale = tf.maximum(target_height / source_height, target_width / source_width)
    scaled_height = tf.maximum(tf.cast(tf.round(source_height * scale), tf.int32), target_height)
    scaled_width = tf.maximum(tf.cast(tf.round(source_width * scale), tf.int32), target_width)
    frames = tf.image.resize(frames, tf.stack([scaled_height, scaled_width]), antialias=True)
    offset_y = (scaled_height - target_height) // 2
    offset_x = (scaled_width - target_width) // 2
    return tf.image.crop_to_bounding_box(frames, offset_y, offset_x, target_height, target_width)


def convert_channels_tf(frames, channels):
    """Converts `(..., 1 or 3)` frames to `channels` (1 or 3) with TF ops."""
    source_channels = frames.shape[-1]
    if source_channels == channels:
        return frames
    if source_channels == 3 and channels == 1:
        return tf.image.rgb_to_grayscale(frames)
    if source_channels == 1 and channels == 3:
        return tf.image.grayscale_to_rgb(frames)
    raise ValueError(
        f"Cannot convert frames with {source_channels} channels to `channels={channels}`; "
        "expected input frames with 1 or 3 channels."
    )


def temporal_windows_tf(video, num_frames, frame_step=1, clip_stride=None):
    """Cuts a `(time, ...)` video into clips of `num_frames` frames.

    Args:
        video: a `(time, height, width, channels)` tensor.
        num_frames: frames per clip.
        frame_step: take every `frame_step`-th frame inside a clip.
        clip_stride: frames between the starts of consecutive clips; `None`
            keeps only the first clip.

    Returns:
        `(num_clips, num_frames, height, width, channels)`; zero clips when the
        video is shorter than one clip's span.
    """
    span = (num_frames - 1) * frame_step + 1
    if clip_stride is None:
        # tf.signal.frame yields no window for a video shorter than `span`.
        windows = tf.signal.frame(video, span, span, axis=0)[:1]
    else:
        windows = tf.signal.frame(video, span, clip_stride, axis=0)
    return windows[:, ::frame_step]
