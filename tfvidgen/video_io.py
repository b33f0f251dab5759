"""Clips out to people: GIF, MP4 and PNG grids (OpenCV only).

Every function takes float clips `(frames, height, width, channels)` in [0, 1]
(NumPy arrays or tensors), channels 1 or 3, as the models produce them. Every
writer is atomic and checked: it writes a temporary beside the file, renames it
into place only once the write is verified, and otherwise raises one `OSError`
naming the path and the cause ("could not write 'out.gif': no space left on
device"), leaving a file already there untouched.
"""

import os

import cv2
import numpy as np

from tfvidgen import atomic_files

DEFAULT_FPS = 8  # Model clips (16-20 frames) play for about two seconds.
# Video extensions (the .mp4 family is written as H.264 where OpenCV encodes it; see tfvidgen.postprocess).
VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}


def to_uint8(clip, name="clip"):
    """Converts a float clip in [0, 1] to uint8, checking its shape."""
    clip = np.asarray(clip)
    if clip.ndim != 4 or clip.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{name}` must have shape (frames, height, width, channels) with 1 or 3 channels. "
            f"Received shape {clip.shape}"
        )
    if clip.dtype == np.uint8:
        return clip
    return np.round(np.clip(clip.astype(np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


def _to_bgr(frame):
    if frame.shape[-1] == 1:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)


def _upscale(frames, scale):
    if scale == 1:
        return frames
    return np.repeat(np.repeat(frames, scale, axis=1), scale, axis=2)


def _animation(clip, fps, scale):
    frames = _upscale(to_uint8(clip), scale)
    animation = cv2.Animation()
    animation.frames = [_to_bgr(frame) for frame in frames]
    animation.durations = [int(round(1000 / fps))] * len(frames)
    animation.loop_count = 0
    return animation


def gif_bytes(clip, fps=8, scale=1):
    """The clip as looping-GIF bytes, e.g. for `IPython.display.Image(data=...)` in notebooks."""
    ok, encoded = cv2.imencodeanimation(".gif", _animation(clip, fps, scale))
    if not ok:
        raise OSError("OpenCV could not encode the GIF.")
    return bytes(encoded)


def write_gif(path, clip, fps=8, scale=1):
    """Writes a clip to an animated, looping GIF, atomically.

    Args:
        path: output file.
        clip: `(frames, height, width, channels)` in [0, 1] or uint8.
        fps: frames per second.
        scale: integer upscaling (nearest neighbour) for small frames.
    """
    if not os.fspath(path).lower().endswith(".gif"):
        raise ValueError(f"`path` must end in .gif. Received: {os.fspath(path)!r}")
    return write_video(path, clip, fps, scale)


def write_mp4(path, clip, fps=8, scale=1):
    """Writes a clip to a video file (`.mp4`, `.mov`, `.avi`, `.mkv`) with OpenCV, atomically."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in VIDEO_CODECS:
        raise ValueError(f"Unsupported video extension {extension!r}; expected one of {sorted(VIDEO_CODECS)}.")
    return write_video(path, clip, fps, scale)


def write_video(path, clip, fps=8, scale=1):
    """Writes a clip as GIF or video, chosen by the file extension, atomically.

    The file is written under a temporary name, checked and renamed into place
    (`tfvidgen.postprocess.VideoWriter`): an interrupted or failed write (a
    full disk raises `OSError` naming `path`) leaves the file under `path` as
    it was.
    """
    from tfvidgen.postprocess import writer  # Lazy: tfvidgen.postprocess imports this module.

    return writer.write_clip(path, _upscale(to_uint8(clip), scale), fps)


def read_video(path, max_frames=None, channels=3):
    """Reads a video file to a float32 clip `(frames, height, width, channels)` in [0, 1]."""
    capture = cv2.VideoCapture(os.fspath(path))
    if not capture.isOpened():
        raise ValueError(f"OpenCV cannot open the video {os.fspath(path)!r} (missing, corrupt or unsupported).")
    frames = []
    try:
        while max_frames is None or len(frames) < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            if channels == 1:
                frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[..., None])
            else:
                frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise ValueError(f"No frame could be decoded from {os.fspath(path)!r}.")
    return np.stack(frames).astype(np.float32) / 255.0


def tile_clips(clips, columns=None, padding=2):
    """Tiles a batch of clips into one clip, a grid of videos.

    Args:
        clips: `(num_clips, frames, height, width, channels)`.
        columns: clips per row; defaults to a near-square grid.
        padding: pixels of white between tiles.

    Returns:
        uint8 `(frames, rows * (height + padding) - padding, ..., channels)`.
    """
    clips = np.stack([to_uint8(clip) for clip in np.asarray(clips)])
    count, frames, height, width, channels = clips.shape
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    grid = np.full(
        (frames, rows * (height + padding) - padding, columns * (width + padding) - padding, channels),
        255,
        np.uint8,
    )
    for index, clip in enumerate(clips):
        top = (index // columns) * (height + padding)
        left = (index % columns) * (width + padding)
        grid[:, top : top + height, left : left + width] = clip
    return grid


def frame_strip_grid(rows, labels=None, padding=2, scale=1, label_width=None):
    """A still image: each row a clip laid out frame by frame, left to right.

    Args:
        rows: a list of clips `(frames, height, width, channels)`, or `None`
            entries for blank rows; rows may have different frame counts and an
            `offset` can be given by passing `(offset, clip)` (frames start at
            column `offset`, e.g. predictions under the future part).
        labels: optional text per row, drawn at the left.
        padding: pixels between frames.
        scale: integer upscaling.

    Returns:
        uint8 `(height, width, 3)` RGB image.
    """
    entries = []
    for row in rows:
        offset, clip = row if isinstance(row, tuple) else (0, row)
        entries.append((offset, _upscale(to_uint8(clip), scale)))
    height, width = entries[0][1].shape[1:3]
    columns = max(offset + len(clip) for offset, clip in entries)
    if label_width is None:
        label_width = 0 if not labels else 8 * max(len(label) for label in labels) + 8
    image = np.full(
        (len(entries) * (height + padding) + padding, label_width + columns * (width + padding) + padding, 3),
        255,
        np.uint8,
    )
    for row_index, (offset, clip) in enumerate(entries):
        top = padding + row_index * (height + padding)
        for frame_index, frame in enumerate(clip):
            left = label_width + padding + (offset + frame_index) * (width + padding)
            rgb = np.repeat(frame, 3, axis=-1) if frame.shape[-1] == 1 else frame
            image[top : top + height, left : left + width] = rgb
        if labels:
            cv2.putText(
                image,
                labels[row_index],
                (4, top + height // 2 + 4),
                cv2.FONT_HERSHEY_PLAIN,
                0.9,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
    return image


def png_bytes(image):
    """An RGB (or gray) uint8 image as PNG bytes, e.g. for `IPython.display.Image(data=...)`."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError("OpenCV could not encode the PNG.")
    return encoded.tobytes()


def write_png(path, image):
    """Writes an RGB (or gray) uint8 image to PNG, atomically; returns `path`.

    Encoded in memory and written by Python (`cv2.imwrite` reports success on
    a full disk), so a failed write raises `OSError` naming `path`.
    """
    return atomic_files.write_bytes(os.fspath(path), png_bytes(image))


def prediction_grid(context, target, prediction, max_rows=4, scale=1):
    """PNG-ready grid comparing predictions with the ground truth.

    For each sample two rows: the context then the true future, and the
    prediction under the true future.

    Args:
        context: `(batch, context_frames, H, W, C)`.
        target: `(batch, future_frames, H, W, C)`.
        prediction: `(batch, future_frames, H, W, C)`.

    Returns:
        uint8 RGB image.
    """
    rows, labels = [], []
    context_frames = np.asarray(context).shape[1]
    for index in range(min(max_rows, len(context))):
        rows.append(np.concatenate([to_uint8(context[index]), to_uint8(target[index])], axis=0))
        rows.append((context_frames, prediction[index]))
        labels.extend([f"truth {index}", f"pred {index}"])
    return frame_strip_grid(rows, labels=labels, scale=scale)


def side_by_side(*clips, padding=2):
    """Joins clips of equal length horizontally into one clip (uint8)."""
    clips = [to_uint8(clip) for clip in clips]
    channels = max(clip.shape[-1] for clip in clips)
    clips = [np.repeat(clip, 3, axis=-1) if clip.shape[-1] < channels else clip for clip in clips]
    frames, height = clips[0].shape[:2]
    separator = np.full((frames, height, padding, channels), 255, np.uint8)
    parts = []
    for clip in clips:
        parts.extend([clip, separator])
    return np.concatenate(parts[:-1], axis=2)
