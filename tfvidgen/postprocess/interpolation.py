"""Frame-rate conversion: in-between frames by optical flow, blending or repetition.

Every function here is a resampling of time: output frame `j` shows the source
at position `j * step` (in source frames), synthesised from the two source
frames around it. `interpolate` uses `step = 1 / factor`, `retime` converts
frame rates, `tfvidgen.postprocess.speed` plays faster or slower. The
`iter_*` forms stream: they hold two source frames at a time, so they run over
videos of any length.

At most `tfvidgen.validation.MAX_INTERPOLATION_FACTOR` (64) output frames are
made per source frame, and the functions returning whole clips make at most
`tfvidgen.validation.MAX_FRAMES`.
"""

import fractions
import math

import numpy as np

from tfvidgen import validation
from tfvidgen.postprocess import clips as clips_lib
from tfvidgen.postprocess.flow_interpolator import FlowInterpolator

INTERPOLATION_METHODS = ("flow", "blend", "repeat")


def _frame_step(step):
    """The step as an exact fraction, so positions never drift over long videos."""
    return fractions.Fraction(step).limit_denominator(100_000)


def _in_between(frame_a, frame_b, times, method, interpolator):
    if method == "repeat":  # Frame repetition: hold the earlier frame.
        return [frame_a.copy() for _ in times]
    if method == "blend":
        blended = [(1.0 - t) * clips_lib.to_float_frame(frame_a) + t * clips_lib.to_float_frame(frame_b) for t in times]
        if frame_a.dtype == np.uint8:
            return [clips_lib.to_uint8_frame(frame) for frame in blended]
        return blended
    return interpolator.interpolate(frame_a, frame_b, times)


def _resolve(method, interpolator):
    if method not in INTERPOLATION_METHODS:
        raise ValueError(f"`method` must be one of {INTERPOLATION_METHODS}. Received: method={method!r}")
    if method == "flow" and interpolator is None:
        interpolator = FlowInterpolator()
    return interpolator


def iter_resampled(frames, step, method="flow", interpolator=None):
    """Streams the frames at source positions `0, step, 2 * step, ...`.

    Args:
        frames: an iterable of frames `(height, width, channels)`, uint8 or
            float in [0, 1]; read lazily, two at a time.
        step: source frames per output frame (0.5 doubles the frame rate,
            2 halves it); at least `1 / MAX_INTERPOLATION_FACTOR`.
        method: `"flow"` (optical flow, `FlowInterpolator`), `"blend"`
            (linear blending) or `"repeat"` (the earlier frame).
        interpolator: anything with `interpolate(frame_a, frame_b, times)`,
            e.g. a configured `FlowInterpolator`; `None` uses the default one.

    Returns:
        An iterator of frames like the input's, up to the last source frame.

    Raises:
        ValueError: for a `step` below `1 / MAX_INTERPOLATION_FACTOR` or an
            unknown `method` (at the call), frames of changing shape or no
            frame at all (while iterating).
    """
    requested = clips_lib.positive_number("step", step)
    step = _frame_step(requested)
    if step < fractions.Fraction(1, validation.MAX_INTERPOLATION_FACTOR):
        raise ValueError(
            f"`step` must be at least 1/{validation.MAX_INTERPOLATION_FACTOR}: at most "
            f"{validation.MAX_INTERPOLATION_FACTOR} output frames per source frame "
            f"(tfvidgen.validation.MAX_INTERPOLATION_FACTOR). Received: step={requested!r}"
        )
    return _resampled(iter(frames), step, method, _resolve(method, interpolator))


def _resampled(iterator, step, method, interpolator):
    previous = next(iterator, None)
    if previous is None:
        raise ValueError("No frame to resample: the clip or video has 0 frames.")
    previous = np.asarray(previous)
    index = 0  # Source index of `previous`.
    output = 0  # Next output frame number.
    for current in iterator:
        current = np.asarray(current)
        if current.shape != previous.shape:
            raise ValueError(
                f"Frame {index + 1} has shape {current.shape}, frame {index} {previous.shape}: "
                "every frame of a clip must have the same size and channels."
            )
        times = []
        while output * step < index + 1:
            times.append(output * step - index)
            output += 1
        if times and times[0] == 0:
            yield previous
            times = times[1:]
        if times:
            yield from _in_between(previous, current, [float(t) for t in times], method, interpolator)
        previous, index = current, index + 1
    if output * step == index:  # The last source frame falls on an output position.
        yield previous


def iter_interpolated(frames, factor=2, method="flow", interpolator=None):
    """Streams the frames with `factor - 1` new frames between each neighbour pair."""
    factor = clips_lib.integer("factor", factor, minimum=1)
    validation.interpolated_frames(1, factor)  # The factor's bound; a stream's length is not known.
    return iter_resampled(frames, fractions.Fraction(1, factor), method, interpolator)


def interpolate(clip, factor=2, method="flow", interpolator=None):
    """Inserts `factor - 1` frames between each pair of neighbouring frames.

    Args:
        clip: `(frames, height, width, channels)`, float in [0, 1] or uint8.
        factor: integer >= 1 (2, 4, 8, ...: the frame rate multiplier), at
            most `tfvidgen.validation.MAX_INTERPOLATION_FACTOR` (64).
        method: `"flow"` (default), `"blend"` or `"repeat"`.
        interpolator: see `iter_resampled`.

    Returns:
        float32 `((frames - 1) * factor + 1, height, width, channels)` in
        [0, 1]; every `factor`-th frame is an original frame.

    Raises:
        ValueError: naming `factor` if it is above `MAX_INTERPOLATION_FACTOR`
            or would make more than `tfvidgen.validation.MAX_FRAMES` frames.

    Example:

    >>> smooth = interpolate(clip, factor=4)   # 16 frames -> 61
    """
    factor = clips_lib.integer("factor", factor, minimum=1)
    clip = clips_lib.as_clip(clip)
    validation.interpolated_frames(len(clip), factor)
    return np.stack(list(iter_interpolated(clip, factor, method, interpolator)))


def retime(clip, source_fps, target_fps, method="flow", interpolator=None):
    """Converts a clip from `source_fps` to `target_fps`, keeping its duration.

    Any ratio up to `tfvidgen.validation.MAX_INTERPOLATION_FACTOR` (64) works
    (24 -> 60, 30 -> 25): output frame `j` is the source at time
    `j / target_fps`.

    Returns:
        float32 `(floor((frames - 1) * target_fps / source_fps) + 1, H, W, C)`,
        at most `tfvidgen.validation.MAX_FRAMES` frames.
    """
    source_fps = clips_lib.positive_number("source_fps", source_fps)
    target_fps = clips_lib.positive_number("target_fps", target_fps)
    if target_fps > source_fps * validation.MAX_INTERPOLATION_FACTOR:
        raise ValueError(
            f"`target_fps` must be at most {validation.MAX_INTERPOLATION_FACTOR} times `source_fps` "
            f"(tfvidgen.validation.MAX_INTERPOLATION_FACTOR). Received: target_fps={target_fps!r}, "
            f"source_fps={source_fps!r}"
        )
    clip = clips_lib.as_clip(clip)
    frames = math.floor((len(clip) - 1) * target_fps / source_fps) + 1
    if frames > validation.MAX_FRAMES:
        raise ValueError(
            f"`target_fps`={target_fps!r} would make {frames:,} frames from {len(clip):,}; at most "
            f"{validation.MAX_FRAMES:,} (tfvidgen.validation.MAX_FRAMES). Retime the clip in parts."
        )
    return np.stack(list(iter_resampled(clip, source_fps / target_fps, method, interpolator)))
