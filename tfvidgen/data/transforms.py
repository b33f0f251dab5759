"""Frame and clip transforms shared by the data sources.

Each source converts its frames to the package's convention, float32
`(frames, height, width, channels)` in [0, 1], through these functions, so a
video file decoded by OpenCV and a tfds video come out resized and cropped the
same way.
"""

import cv2
import numpy as np
import tensorflow as tf

RESIZE_MODES = ("crop", "pad", "stretch")


def fit_box(source_size, target_size, mode):
    """Geometry of fitting a `source_size` frame into `target_size`.

    Args:
        source_size: `(height, width)` of the input frame.
        target_size: `(height, width)` wanted.
        mode: `"crop"` scales so the frame covers the target and crops the
            centre; `"pad"` scales so it fits inside and pads with black;
            `"stretch"` ignores the aspect ratio.

    Returns:
        `(scaled_height, scaled_width, offset_y, offset_x)`: the size to resize
        to, then the top-left offset of the crop (`"crop"`) or of the frame in
        the padded canvas (`"pad"`); offsets are 0 for `"stretch"`.
    """
    source_height, source_width = source_size
    target_height, target_width = target_size
    if mode == "stretch":
        return target_height, target_width, 0, 0
    scale_y, scale_x = target_height / source_height, target_width / source_width
    scale = max(scale_y, scale_x) if mode == "crop" else min(scale_y, scale_x)
    scaled_height = max(1, int(round(source_height * scale)))
    scaled_width = max(1, int(round(source_width * scale)))
    if mode == "crop":
        scaled_height, scaled_width = max(scaled_height, target_height), max(scaled_width, target_width)
        return scaled_height, scaled_width, (scaled_height - target_height) // 2, (scaled_width - target_width) // 2
    scaled_height, scaled_width = min(scaled_height, target_height), min(scaled_width, target_width)
    return scaled_height, scaled_width, (target_height - scaled_height) // 2, (target_width - scaled_width) // 2


def resize_frame_numpy(frame, target_size, mode="crop"):
    """Resizes one uint8 `(height, width[, channels])` frame with OpenCV."""
    target_height, target_width = target_size
    scaled_height, scaled_width, offset_y, offset_x = fit_box(frame.shape[:2], target_size, mode)
    shrinking = scaled_height * scaled_width < frame.shape[0] * frame.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(frame, (scaled_width, scaled_height), interpolation=interpolation)
    if resized.ndim == 2 and frame.ndim == 3:
        resized = resized[..., None]
    if mode == "crop":
        return resized[offset_y : offset_y + target_height, offset_x : offset_x + target_width]
    if mode == "pad":
        canvas = np.zeros((target_height, target_width) + resized.shape[2:], resized.dtype)
        canvas[offset_y : offset_y + scaled_height, offset_x : offset_x + scaled_width] = resized
        return canvas
    return resized


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
