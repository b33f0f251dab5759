"""Editing clips: trim, concat, speed, loop, fade, and labelled side-by-side and grid layouts.

Clips are `(frames, height, width, channels)`, float in [0, 1] or uint8; every
function returns float32 in [0, 1]. Times are in seconds at the clip's `fps`.
"""

import cv2
import numpy as np

from tfvidgen.postprocess import clips as clips_lib
from tfvidgen.postprocess import interpolation
from tfvidgen.postprocess import stills


def frame_range(num_frames, fps, start=0.0, end=None):
    """Source frame indices `[first, last)` of the span `start`..`end` seconds.

    Raises:
        ValueError: for negative or reversed times, or a span holding no frame.
    """
    fps = clips_lib.positive_number("fps", fps)
    start = clips_lib.positive_number("start", start, inclusive=True)
    first = int(np.ceil(start * fps - 1e-9))
    last = num_frames if end is None else int(np.ceil(clips_lib.positive_number("end", end) * fps - 1e-9))
    if end is not None and end <= start:
        raise ValueError(f"`end` must be after `start`. Received: start={start!r}, end={end!r}")
    last = min(last, num_frames)
    if first >= last:
        duration = num_frames / fps
        raise ValueError(
            f"The span {start:g}s to {'the end' if end is None else f'{end:g}s'} holds no frame of a "
            f"{duration:.3g}s clip ({num_frames} frames at {fps:g} fps)."
        )
    return first, last


def parse_span(text):
    """`"0.5:3.0"` -> `(0.5, 3.0)`; `"2:"` -> `(2.0, None)`; `":1.5"` -> `(0.0, 1.5)`."""
    start, separator, end = str(text).partition(":")
    if not separator:
        raise ValueError(f"A time span is START:END in seconds (either may be empty). Received: {text!r}")
    try:
        return float(start) if start.strip() else 0.0, float(end) if end.strip() else None
    except ValueError:
        raise ValueError(f"A time span is START:END in seconds (either may be empty). Received: {text!r}") from None


def trim(clip, start=0.0, end=None, fps=8):
    """The frames shown from `start` to `end` seconds (end exclusive; `None`: to the end)."""
    clip = clips_lib.as_clip(clip)
    first, last = frame_range(len(clip), fps, start, end)
    return clip[first:last]


def _match_channels(clips):
    channels = max(clip.shape[-1] for clip in clips)
    return [np.repeat(clip, channels, axis=-1) if clip.shape[-1] != channels else clip for clip in clips]


def concat(*clips):
    """Plays clips one after the other; their frame sizes must match (grayscale joins RGB as RGB)."""
    if not clips:
        raise ValueError("`concat` needs at least one clip.")
    clips = [clips_lib.as_clip(clip, f"clips[{index}]") for index, clip in enumerate(clips)]
    for index, clip in enumerate(clips[1:], start=1):
        if clip.shape[1:3] != clips[0].shape[1:3]:
            raise ValueError(
                f"`concat` needs frames of one size: clips[0] is {clips[0].shape[2]}x{clips[0].shape[1]}, "
                f"clips[{index}] is {clip.shape[2]}x{clip.shape[1]} (width x height). Resize one first."
            )
    return np.concatenate(_match_channels(clips))


def speed(clip, factor, method="flow"):
    """Plays `factor` times faster at the same frame rate (0.5: slow motion with new frames by `method`)."""
    clip = clips_lib.as_clip(clip)
    factor = clips_lib.positive_number("factor", factor)
    return np.stack(list(interpolation.iter_resampled(clip, factor, method)))


def loop(clip, times=2, ping_pong=False):
    """Repeats the clip `times` times; `ping_pong` plays it forwards then backwards (no doubled end frames)."""
    clip = clips_lib.as_clip(clip)
    times = clips_lib.integer("times", times)
    cycle = np.concatenate([clip, clip[-2:0:-1]]) if ping_pong and len(clip) > 2 else clip
    return np.concatenate([cycle] * times)


def fade(clip, fade_in=0.0, fade_out=0.0, fps=8, color=0.0):
    """Fades from `color` over the first `fade_in` seconds and to it over the last `fade_out` seconds."""
    clip = clips_lib.as_clip(clip)
    fps = clips_lib.positive_number("fps", fps)
    color = clips_lib.positive_number("color", color, inclusive=True)
    in_frames = int(round(clips_lib.positive_number("fade_in", fade_in, inclusive=True) * fps))
    out_frames = int(round(clips_lib.positive_number("fade_out", fade_out, inclusive=True) * fps))
    if in_frames + out_frames > len(clip):
        raise ValueError(
            f"Fades of {fade_in:g}s + {fade_out:g}s ({in_frames + out_frames} frames) are longer than the clip "
            f"({len(clip)} frames at {fps:g} fps)."
        )
    weights = np.ones(len(clip), np.float32)
    if in_frames:
        weights[:in_frames] = np.arange(in_frames, dtype=np.float32) / in_frames
    if out_frames:
        weights[len(clip) - out_frames :] = np.arange(out_frames, 0, -1, dtype=np.float32) / (out_frames + 1)
    weights = weights[:, None, None, None]
    return weights * clip + (1.0 - weights) * min(color, 1.0)


def _hold_last(clip, num_frames):
    if len(clip) >= num_frames:
        return clip
    return np.concatenate([clip, np.repeat(clip[-1:], num_frames - len(clip), axis=0)])


def _label(frame, text):
    """Draws `text` at the top left, white with a black outline, readable on any content."""
    scale = max(0.35, frame.shape[0] / 256)
    thickness = max(1, int(round(scale)))
    origin = (4, 4 + int(12 * scale))
    for color, weight in (((0, 0, 0), thickness + 2), ((255, 255, 255), thickness)):
        cv2.putText(frame, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, color, weight, cv2.LINE_AA)


def grid(clips, columns=None, labels=None, padding=2):
    """Lays clips out in a grid of videos, each labelled; shorter clips hold their last frame.

    Args:
        clips: a list (or array) of clips of one frame size.
        columns: clips per row (default: a near-square grid).
        labels: optional text per clip, drawn in its top-left corner.
        padding: pixels of white between tiles.

    Returns:
        float32 `(max frames, rows * (H + padding) - padding, ..., channels)`.
    """
    clips = [clips_lib.as_clip(clip, f"clips[{index}]") for index, clip in enumerate(clips)]
    if not clips:
        raise ValueError("`grid` needs at least one clip.")
    if labels is not None and len(labels) != len(clips):
        raise ValueError(f"`labels` must have one entry per clip ({len(clips)}). Received {len(labels)} labels.")
    sizes = {clip.shape[1:3] for clip in clips}
    if len(sizes) > 1:
        raise ValueError(f"`grid` needs clips of one frame size; received sizes (height, width) {sorted(sizes)}.")
    num_frames = max(len(clip) for clip in clips)
    tiles = [clips_lib.to_uint8(_hold_last(clip, num_frames)) for clip in _match_channels(clips)]
    if labels is not None:
        tiles = [tile.copy() for tile in tiles]
        for tile, text in zip(tiles, labels):
            channels = tile.shape[-1]
            for index, frame in enumerate(tile):
                color = frame if channels == 3 else np.repeat(frame, 3, axis=-1)
                _label(color, str(text))
                tile[index] = color if channels == 3 else color[..., :1]
    return stills.tile_clips(np.stack(tiles), columns=columns, padding=padding).astype(np.float32) / 255.0


def side_by_side(*clips, labels=None, padding=2):
    """Clips next to each other in one row (see `grid`)."""
    return grid(list(clips), columns=len(clips), labels=labels, padding=padding)
