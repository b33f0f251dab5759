"""Stills and grids of clips: PNG images of frame strips, grids of videos (NumPy and OpenCV)."""

import os

import cv2
import numpy as np

from tfvidgen import atomic_files
from tfvidgen.postprocess.clips import to_uint8


def upscale_nearest(frames, scale):
    """`(..., height, width, channels)` frames enlarged `scale` times by repeating pixels."""
    if scale == 1:
        return frames
    return np.repeat(np.repeat(frames, scale, axis=-3), scale, axis=-2)


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
        entries.append((offset, upscale_nearest(to_uint8(clip), scale)))
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
