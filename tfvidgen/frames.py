"""Frame geometry in NumPy/OpenCV, shared by `tfvidgen.data` and `tfvidgen.postprocess`.

No TensorFlow here: `tfvidgen.postprocess` and the video readers use it on
machines without TensorFlow.
"""

import os

import cv2
import numpy as np

RESIZE_MODES = ("crop", "pad", "stretch")
# ITU-R BT.601 luma, as OpenCV's RGB2GRAY computes it (uint8 in 14-bit fixed point, rounded).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
_GREY_CODES = {"rgb": cv2.COLOR_RGB2GRAY, "bgr": cv2.COLOR_BGR2GRAY}


def rgb_to_grey(frames, channel_order="rgb"):
    """tfvidgen's one RGB-to-grey conversion: BT.601 luma (`LUMA_WEIGHTS`) with OpenCV, for NumPy frames.

    uint8 frames stay uint8 (OpenCV's fixed point, rounded: a grey pixel
    `(v, v, v)` gives `v` exactly); float frames are converted as float32.

    Args:
        frames: `(..., height, width, 3 or 4)`, one frame or a batch; a 4th
            channel (alpha) is ignored.
        channel_order: `"rgb"`, or `"bgr"` for frames as OpenCV decodes them.

    Returns:
        `(..., height, width, 1)`, uint8 for uint8 frames, else float32.
    """
    if channel_order not in _GREY_CODES:
        raise ValueError(f"`channel_order` must be 'rgb' or 'bgr'. Received: channel_order={channel_order!r}")
    frames = np.asarray(frames)
    if frames.ndim < 3 or frames.shape[-1] not in (3, 4):
        raise ValueError(f"`frames` must have shape (..., height, width, 3 or 4). Received shape {frames.shape}")
    if frames.dtype != np.uint8:
        frames = frames.astype(np.float32, copy=False)
    if frames.size == 0:
        return np.zeros(frames.shape[:-1] + (1,), frames.dtype)
    # Per pixel: a batch is one tall image to OpenCV.
    flat = np.ascontiguousarray(frames[..., :3].reshape((-1,) + frames.shape[-2:-1] + (3,)))
    return cv2.cvtColor(flat, _GREY_CODES[channel_order]).reshape(frames.shape[:-1] + (1,))


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


def resize_frame_numpy(frame, target_size, mode="crop", interpolation=None):
    """Resizes one `(height, width[, channels])` frame with OpenCV.

    Args:
        frame: uint8 or float32 frame.
        target_size: `(height, width)`.
        mode: `"crop"`, `"pad"` or `"stretch"` (see `fit_box`).
        interpolation: an OpenCV flag; default `INTER_AREA` when shrinking,
            else `INTER_LINEAR`.
    """
    target_height, target_width = target_size
    scaled_height, scaled_width, offset_y, offset_x = fit_box(frame.shape[:2], target_size, mode)
    if interpolation is None:
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


def fit_frame(frame, frame_shape, mode="crop"):
    """One decoded OpenCV frame (BGR, BGRA or gray) as uint8 RGB or gray of `frame_shape` (height, width, channels)."""
    height, width, channels = frame_shape
    if frame.ndim == 3 and frame.shape[-1] == 1:
        frame = frame[..., 0]
    if frame.ndim == 2:
        frame = frame if channels == 1 else cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    elif channels == 1:
        frame = rgb_to_grey(frame, "bgr")[..., 0]
    else:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB if frame.shape[-1] == 4 else cv2.COLOR_BGR2RGB)
    return resize_frame_numpy(frame, (height, width), mode).reshape(height, width, channels)


def read_frames(path, start, count, frame_shape, mode="crop"):
    """Decodes frames `start .. start + count - 1` of a video file, each fitted to `frame_shape` as it is read.

    Frames before `start` are grabbed (demuxed and decoded by FFmpeg, never
    converted or kept) and reading stops after the last frame wanted, so
    memory holds `count` frames of the model's size, whatever the video's
    length or resolution.

    Args:
        path: a video file OpenCV can open.
        start: index of the first frame, >= 0.
        count: frames wanted, >= 1.
        frame_shape: `(height, width, channels)` of the result (1 or 3 channels).
        mode: `"crop"`, `"pad"` or `"stretch"` (see `fit_box`).

    Returns:
        `(frames, available)`: uint8 `(n, height, width, channels)` with
        `n <= count` (fewer when the video ends first), and `start + n`, the
        frames the video was seen to have up to there (at least).

    Raises:
        ValueError: when OpenCV cannot open the file.
    """
    path = os.fspath(path)
    capture = cv2.VideoCapture(path)
    frames = []
    skipped = 0
    try:
        if not capture.isOpened():
            raise ValueError(f"OpenCV cannot open the video {path!r} (missing, corrupt or unsupported).")
        while skipped < start and capture.grab():
            skipped += 1
        while skipped == start and len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(fit_frame(frame, frame_shape, mode))
    finally:
        capture.release()
    height, width, channels = frame_shape
    stacked = np.stack(frames) if frames else np.zeros((0, height, width, channels), np.uint8)
    return stacked, skipped + len(frames)
