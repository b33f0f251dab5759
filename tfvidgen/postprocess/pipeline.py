"""One pass from a clip or a video file to a smoother, larger, trimmed one.

`process_video` streams (a few frames in memory whatever the length):
read -> trim -> change the frame rate (interpolate, retime, speed) -> upscale
-> write atomically. `process_clip` does the same to a clip in memory.
"""

import fractions
import os
import time

import numpy as np

from tfvidgen import validation
from tfvidgen.postprocess import clips as clips_lib
from tfvidgen.postprocess import editing
from tfvidgen.postprocess import interpolation
from tfvidgen.postprocess import reader
from tfvidgen.postprocess import scaling
from tfvidgen.postprocess import writer as writer_lib
from tfvidgen.postprocess.writer import VideoWriter


def frame_step(interpolate=1, target_fps=None, speed=1.0, source_fps=None):
    """Source frames per output frame, and the output frame rate, for the time options.

    `interpolate` multiplies the frame count (and, by default, the frame rate:
    the same duration, smoother); `target_fps` converts to a frame rate keeping
    the duration; `speed` plays faster (> 1) or slower (< 1). Together they make
    at most `tfvidgen.validation.MAX_INTERPOLATION_FACTOR` (64) output frames
    per source frame.

    Raises:
        ValueError: naming the option out of range and its allowed range.
    """
    factor = clips_lib.integer("interpolate", interpolate, minimum=1)
    speed = clips_lib.positive_number("speed", speed)
    limit = validation.MAX_INTERPOLATION_FACTOR
    per_source = f"at most {limit} output frames per source frame"
    if target_fps is not None:
        if factor != 1:
            raise ValueError("Give `interpolate` (a frame multiplier) or `target_fps` (a frame rate), not both.")
        target_fps = clips_lib.positive_number("target_fps", target_fps)
        source_fps = clips_lib.positive_number("source_fps", source_fps)
        if target_fps > limit * source_fps * speed:
            at_speed = f" at `speed`={speed:g}" if speed != 1 else ""
            raise ValueError(
                f"`target_fps` must be at most {limit * source_fps * speed:g} for a {source_fps:g} fps source"
                f"{at_speed} ({per_source}). Received: target_fps={target_fps!r}"
            )
        return fractions.Fraction(source_fps / target_fps).limit_denominator(100_000) * speed, target_fps
    if factor > limit * speed:
        if speed == 1:
            raise ValueError(f"`interpolate` must be at most {limit} ({per_source}). Received: interpolate={factor!r}")
        with_factor = f" with `interpolate`={factor}" if factor != 1 else ""
        raise ValueError(
            f"`speed` must be at least {factor / limit:g}{with_factor} ({per_source}). Received: speed={speed!r}"
        )
    output_fps = None if source_fps is None else source_fps * factor
    step = fractions.Fraction(1, factor) * fractions.Fraction(speed).limit_denominator(100_000)
    return step, output_fps


def _temporal(frames, step, method, interpolator):
    if step == 1:
        return iter(frames)
    return interpolation.iter_resampled(frames, step, method, interpolator)


def _spatial(frames, size, upscale_method, sharpen):
    for frame in frames:
        if size is None:
            yield frame
        else:
            yield scaling.upscale_frame(clips_lib.to_float_frame(frame), size, upscale_method, sharpen)


def process_clip(
    clip,
    interpolate=1,
    scale=1,
    target_fps=None,
    source_fps=8,
    speed=1.0,
    method="flow",
    upscale_method="lanczos",
    sharpen=0.0,
    interpolator=None,
):
    """Changes a clip's frame rate and size in memory; see `process_video` for the arguments.

    Returns:
        `(clip, fps)`: float32 `(frames, H * scale, W * scale, C)` and its frame rate.
    """
    clip = clips_lib.as_clip(clip)
    step, output_fps = frame_step(interpolate, target_fps, speed, source_fps)
    sharpen = scaling.check_sharpen(sharpen)
    size = _output_size(clip.shape[1], clip.shape[2], scale)
    if size is not None:
        frames_out = int((len(clip) - 1) / step) + 1
        scaling.check_memory(frames_out, size[0], size[1], clip.shape[3], f"Upscaling by {scale:g}")
    frames = _spatial(_temporal(clip, step, method, interpolator), size, upscale_method, sharpen)
    return np.stack([clips_lib.to_float_frame(frame) for frame in frames]), output_fps


def _check_output_fps(out, fps, output_fps, interpolate, target_fps, source_fps):
    """Raises ValueError, naming the option that set it, when `out`'s format cannot hold the output frame rate."""
    rate = fps if fps is not None else output_fps
    problem = writer_lib.fps_range_problem(out, rate)
    if problem is None:
        return
    if fps is not None:
        origin = f"`fps`={fps!r}"
    elif target_fps is not None:
        origin = f"`target_fps`={target_fps!r}"
    else:
        origin = f"`interpolate`={interpolate!r} on a {source_fps:g} fps source makes {rate:g} fps, but"
        raise ValueError(
            f"{origin} {problem}: lower `interpolate`, or give `fps` (slow motion). Cannot write {os.fspath(out)!r}."
        )
    raise ValueError(f"{origin} is out of range: {problem}. Cannot write {os.fspath(out)!r}.")


def _output_size(height, width, scale):
    scale = clips_lib.positive_number("scale", scale)
    return None if scale == 1 else scaling.scaled_size(height, width, scale)


def process_video(
    source,
    out,
    interpolate=1,
    scale=1,
    trim=None,
    fps=None,
    target_fps=None,
    speed=1.0,
    method="flow",
    upscale_method="lanczos",
    sharpen=0.0,
    sample="samples",
    interpolator=None,
):
    """Post-processes a video file, GIF or run directory's samples into `out`, streaming.

    Args:
        source: a video file, a GIF, or a run directory (its latest `sample`
            GIF).
        out: output `.mp4`, `.gif`, `.avi`, ... (written atomically).
        interpolate: frame multiplier (1: none; 2, 4, 8: new frames between
            each pair).
        scale: spatial factor (e.g. 4), with `upscale_method` and `sharpen`
            (0 to 2).
        trim: `(start, end)` seconds of the source to keep (`end` may be None).
        fps: the output's frame rate (0.01 to the most `out`'s format holds,
            `tfvidgen.postprocess.writer.MAX_FPS`); default: the source's
            times `interpolate` (or `target_fps`), so the duration is kept.
        target_fps: convert to this frame rate, any ratio (instead of
            `interpolate`).
        speed: play faster (> 1) or slower (< 1; frames made by `method`).
        method: `"flow"`, `"blend"` or `"repeat"` for the new frames.
        interpolator: see `tfvidgen.postprocess.iter_resampled` (e.g. a
            `FlowInterpolator` with other settings).

    Returns:
        A dict: input and output paths, frame counts, sizes, frame rates,
        codec and seconds taken.

    Raises:
        FileNotFoundError, ValueError: for a missing or undecodable input, an
            empty trim span, an option out of its range, a frame rate `out`'s
            format cannot hold (all before anything is written); MemoryError
            for a frame too large; OSError naming `out` when it cannot be
            written (a full disk), leaving a file already there as it was.
    """
    start_time = time.perf_counter()
    if fps is not None:
        fps = clips_lib.positive_number("fps", fps)
    sharpen = scaling.check_sharpen(sharpen)
    info = reader.probe(reader.resolve_input(source, sample))
    step, output_fps = frame_step(interpolate, target_fps, speed, info.fps)
    _check_output_fps(out, fps, output_fps, interpolate, target_fps, info.fps)
    first, last = 0, None
    if trim is not None:
        start, end = trim
        known = info.num_frames if info.num_frames > 0 else 2**62
        first, last = editing.frame_range(known, info.fps, start, end)
        last = None if last == known else last
    size = _output_size(info.height, info.width, scale)
    height, width = size or (info.height, info.width)
    scaling.check_memory(4, height, width, 3, f"A {width}x{height} frame")  # Streaming holds a few frames.
    counter = {"input_frames": 0}

    def counted(frames):
        for frame in frames:
            counter["input_frames"] += 1
            yield frame

    frames = counted(reader.iter_frames(info.path, first, last))
    frames = _spatial(_temporal(frames, step, method, interpolator), size, upscale_method, sharpen)
    with VideoWriter(out, fps if fps is not None else output_fps) as writer:
        for frame in frames:
            writer.write(frame)
    return {
        "input": info.path,
        "output": os.fspath(out),
        "input_frames": counter["input_frames"],
        "output_frames": writer.num_frames,
        "input_size": [info.height, info.width],
        "output_size": [height, width],
        "input_fps": info.fps,
        "output_fps": writer.fps,
        "codec": writer.codec,
        "seconds": round(time.perf_counter() - start_time, 3),
    }
