"""Spatial resampling: upscaling with optional edge-aware sharpening, resizing to a size or aspect."""

import os

import cv2
import numpy as np

from tfvidgen import frames as frame_geometry
from tfvidgen.postprocess import clips as clips_lib

SHARPEN_RANGE = (0.0, 2.0)  # Past 2 the edges ring and the noise grows.
UPSCALE_METHODS = {
    "lanczos": cv2.INTER_LANCZOS4,
    "bicubic": cv2.INTER_CUBIC,
    "bilinear": cv2.INTER_LINEAR,
    "nearest": cv2.INTER_NEAREST,
    "area": cv2.INTER_AREA,
}


def available_memory_bytes():
    """Memory the system can still give this process (Linux MemAvailable; else physical pages free)."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(num_frames, height, width, channels, what, bytes_per_value=4, max_bytes=None):
    """Raises MemoryError, with the figures, when the frames would not fit in memory.

    Args:
        num_frames, height, width, channels: the array to be made.
        what: how the message names the operation.
        max_bytes: the limit; default 80% of `available_memory_bytes()`.

    Returns:
        The estimated bytes.
    """
    needed = int(num_frames) * int(height) * int(width) * int(channels) * bytes_per_value
    limit = int(0.8 * available_memory_bytes()) if max_bytes is None else int(max_bytes)
    if needed > limit:
        raise MemoryError(
            f"{what} needs {_gib(needed)} for {num_frames} frames of {width}x{height}x{channels}; "
            f"the limit is {_gib(limit)} (80% of the memory available). Use a smaller scale, or stream "
            "a video file with `tfvidgen postprocess`, which holds a few frames at a time."
        )
    return needed


def _gib(num_bytes):
    return f"{num_bytes / 2**30:.2f} GiB" if num_bytes >= 2**28 else f"{num_bytes / 2**20:.1f} MiB"


def _method(method):
    if method not in UPSCALE_METHODS:
        raise ValueError(f"`method` must be one of {tuple(UPSCALE_METHODS)}. Received: method={method!r}")
    return UPSCALE_METHODS[method]


def scaled_size(height, width, scale):
    """`(height, width)` times `scale`, rounded, at least 1 pixel."""
    scale = clips_lib.positive_number("scale", scale)
    return max(1, int(round(height * scale))), max(1, int(round(width * scale)))


def check_sharpen(sharpen):
    """`sharpen` as a float in `SHARPEN_RANGE` (0 to 2), else a ValueError naming it."""
    low, high = SHARPEN_RANGE
    try:
        amount = float(sharpen)
    except (TypeError, ValueError):
        raise ValueError(f"`sharpen` must be a number in [{low:g}, {high:g}]. Received: sharpen={sharpen!r}") from None
    if not low <= amount <= high:  # NaN fails too.
        raise ValueError(f"`sharpen` must be a number in [{low:g}, {high:g}]. Received: sharpen={sharpen!r}")
    return amount


def sharpen_frame(frame, amount, radius=1.0):
    """Edge-aware unsharp masking of one float frame `(H, W, C)` in [0, 1].

    The detail layer (frame minus its Gaussian blur) is added back `amount`
    times, weighted per pixel by the gradient magnitude relative to the
    frame's strong edges: edges get crisper, flat regions and their noise stay
    as they are.
    """
    blurred = cv2.GaussianBlur(frame, (0, 0), radius).reshape(frame.shape)
    gray = blurred if frame.shape[-1] == 1 else frame_geometry.rgb_to_grey(blurred)
    gradient = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)).reshape(gray.shape)
    strong = max(float(np.percentile(gradient, 99)), 1e-3)
    edges = np.clip(gradient / strong, 0.0, 1.0)
    return np.clip(frame + amount * edges * (frame - blurred), 0.0, 1.0)


def upscale_frame(frame, size, method="lanczos", sharpen=0.0):
    """One float frame `(H, W, C)` resized to `size` `(height, width)`, optionally sharpened (0 to 2)."""
    sharpen = check_sharpen(sharpen)
    height, width = size
    resized = cv2.resize(frame, (width, height), interpolation=_method(method)).reshape(height, width, frame.shape[-1])
    resized = np.clip(resized, 0.0, 1.0)  # Lanczos and bicubic overshoot at edges.
    if sharpen:
        resized = sharpen_frame(resized, sharpen, radius=max(1.0, 0.5 * height / frame.shape[0]))
    return resized


def upscale(clip, scale, method="lanczos", sharpen=0.0, max_bytes=None):
    """Resizes every frame by `scale` (e.g. 4, or 1.5).

    Args:
        clip: `(frames, height, width, channels)`, float in [0, 1] or uint8.
        scale: positive factor; below 1 it downscales (use `method="area"`).
        method: `"lanczos"` (default), `"bicubic"`, `"bilinear"`, `"nearest"`
            or `"area"`.
        sharpen: edge-aware sharpening amount, 0 (none) to 2; 0.5-1 is
            typical after a 4x upscale.
        max_bytes: refuse when the result would be larger (default: 80% of the
            available memory), with a `MemoryError` giving both figures.

    Returns:
        float32 `(frames, round(height * scale), round(width * scale), channels)`.

    Example:

    >>> large = upscale(samples[0], 4, sharpen=0.5)   # 64x64 -> 256x256
    """
    clip = clips_lib.as_clip(clip)
    sharpen = check_sharpen(sharpen)
    size = scaled_size(clip.shape[1], clip.shape[2], scale)
    check_memory(len(clip), size[0], size[1], clip.shape[3], f"Upscaling by {scale:g}", max_bytes=max_bytes)
    return np.stack([upscale_frame(frame, size, method, sharpen) for frame in clip])


def parse_aspect(aspect):
    """`"16:9"`, `"16/9"`, `(16, 9)` or `1.78` as width / height."""
    if isinstance(aspect, str):
        for separator in (":", "/", "x"):
            if separator in aspect:
                width, height = aspect.split(separator, 1)
                return clips_lib.positive_number("aspect", width) / clips_lib.positive_number("aspect", height)
        return clips_lib.positive_number("aspect", aspect)
    if isinstance(aspect, (tuple, list)) and len(aspect) == 2:
        return clips_lib.positive_number("aspect", aspect[0]) / clips_lib.positive_number("aspect", aspect[1])
    return clips_lib.positive_number("aspect", aspect)


def resize(clip, size=None, aspect=None, mode="crop", method="lanczos"):
    """Resizes to `size` and/or an aspect ratio, cropping or padding instead of distorting.

    Args:
        clip: `(frames, height, width, channels)`.
        size: `(height, width)`; `None` keeps the height (and, with `aspect`,
            derives the width).
        aspect: width / height, e.g. `"16:9"`, `"1:1"` or `1.5`.
        mode: `"crop"` (cover and cut the centre), `"pad"` (fit and pad with
            black) or `"stretch"`.
        method: as for `upscale`.

    Returns:
        float32 `(frames, height, width, channels)`.
    """
    clip = clips_lib.as_clip(clip)
    if mode not in frame_geometry.RESIZE_MODES:
        raise ValueError(f"`mode` must be one of {frame_geometry.RESIZE_MODES}. Received: mode={mode!r}")
    height, width = clip.shape[1:3]
    if size is not None:
        if len(size) != 2:
            raise ValueError(f"`size` must be (height, width). Received: size={size!r}")
        height, width = (clips_lib.integer("size", value) for value in size)
    if aspect is not None:
        ratio = parse_aspect(aspect)
        if size is None:
            width = max(1, int(round(height * ratio)))
        elif abs(width / height - ratio) > 0.01:
            raise ValueError(f"`size` {size!r} does not have the aspect ratio {aspect!r}; give one or the other.")
    check_memory(len(clip), height, width, clip.shape[3], "Resizing")
    interpolation = _method(method)
    frames = [
        frame_geometry.resize_frame_numpy(frame, (height, width), mode, interpolation).reshape(height, width, -1)
        for frame in clip
    ]
    return np.clip(np.stack(frames), 0.0, 1.0)
