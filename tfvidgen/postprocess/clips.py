"""Clip checks and conversions shared by the post-processing functions."""

import numpy as np


def as_clip(clip, name="clip"):
    """A `(frames, height, width, channels)` float32 array in [0, 1].

    Accepts float clips in [0, 1] (NumPy arrays, tensors, lists of frames) and
    uint8 clips (0-255), channels 1 or 3.

    Raises:
        ValueError: naming `name`, the expected and the received shape or range.
    """
    if isinstance(clip, (list, tuple)):
        if not clip:
            raise ValueError(f"`{name}` has 0 frames; expected at least 1.")
        clip = np.stack([np.asarray(frame) for frame in clip])
    clip = np.asarray(clip)
    if clip.ndim != 4 or clip.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{name}` must have shape (frames, height, width, channels) with 1 or 3 channels. "
            f"Received shape {clip.shape}."
        )
    if clip.shape[0] == 0:
        raise ValueError(f"`{name}` has 0 frames; expected at least 1.")
    if clip.shape[1] == 0 or clip.shape[2] == 0:
        raise ValueError(f"`{name}` has empty frames of {clip.shape[1]}x{clip.shape[2]} pixels.")
    if clip.dtype == np.uint8:
        return clip.astype(np.float32) / 255.0
    clip = clip.astype(np.float32, copy=False)
    if not np.isfinite(clip).all():
        raise ValueError(f"`{name}` holds NaN or Inf values; expected finite values in [0, 1].")
    low, high = float(clip.min()), float(clip.max())
    if low < -1e-3 or high > 1.0 + 1e-3:
        hint = " (0-255 frames? divide by 255)" if high > 1.5 else ""
        raise ValueError(f"`{name}` must hold values in [0, 1]; received values in [{low:.3g}, {high:.3g}]{hint}.")
    return clip


def to_uint8(clip, name="clip"):
    """A float clip `(frames, height, width, channels)` in [0, 1] (or a uint8 one) as uint8, checking its shape."""
    clip = np.asarray(clip)
    if clip.ndim != 4 or clip.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{name}` must have shape (frames, height, width, channels) with 1 or 3 channels. "
            f"Received shape {clip.shape}"
        )
    if clip.dtype == np.uint8:
        return clip
    return np.round(np.clip(clip.astype(np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


def to_uint8_frame(frame):
    """A float frame in [0, 1] (or a uint8 frame) as uint8."""
    frame = np.asarray(frame)
    if frame.dtype == np.uint8:
        return frame
    return np.round(np.clip(frame, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_float_frame(frame):
    """A uint8 frame (or a float frame) as float32 in [0, 1]."""
    frame = np.asarray(frame)
    if frame.dtype == np.uint8:
        return frame.astype(np.float32) / 255.0
    return frame.astype(np.float32, copy=False)


def positive_number(name, value, minimum=0.0, inclusive=False):
    """`value` as a float greater than (or equal to) `minimum`, else a ValueError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}") from None
    ok = number >= minimum if inclusive else number > minimum
    if not ok or not np.isfinite(number):
        relation = ">=" if inclusive else ">"
        raise ValueError(f"`{name}` must be a finite number {relation} {minimum:g}. Received: {name}={value!r}")
    return number


def integer(name, value, minimum=1):
    """`value` as an int >= `minimum` (2.0 is accepted; 2.5, "2" and True are not)."""
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not is_number or not float(value).is_integer() or int(value) < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)
