"""Reading clips for post-processing: video files, GIFs and a run directory's samples, streamed."""

import collections
import glob
import os
import re

import cv2
import numpy as np

from tfvidgen import frames as frames_lib

VideoInfo = collections.namedtuple("VideoInfo", ["path", "fps", "num_frames", "height", "width"])
VideoInfo.__doc__ = "What `probe` finds: frames per second, frame count (-1 if unknown) and frame size."

DEFAULT_FPS = 8.0  # tfvidgen's sample GIFs and MP4s.


def resolve_input(path, sample="samples"):
    """The video file behind `path`: itself, or for a run directory its latest sample GIF.

    Args:
        path: a video file, a GIF, a run directory (`samples/NAME_epoch_NNN.gif`)
            or its `samples/` directory.
        sample: which preview of a run directory (`samples`, `rollout`,
            `reconstruction`, ...); the latest epoch's is taken.

    Raises:
        FileNotFoundError: naming the path and what was looked for.
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No input at {path!r}: expected a video file, a GIF or a run directory.")
    directory = os.path.join(path, "samples") if os.path.isdir(os.path.join(path, "samples")) else path
    candidates = glob.glob(os.path.join(directory, "*_epoch_*.gif"))
    if not candidates:
        raise FileNotFoundError(f"{path!r} holds no sample GIF (samples/NAME_epoch_NNN.gif of a tfvidgen run).")
    names = sorted({re.sub(r"_epoch_\d+\.gif$", "", os.path.basename(file)) for file in candidates})
    if sample not in names:
        raise FileNotFoundError(f"{path!r} has no {sample!r} samples; it has {names}.")
    latest = max(
        (file for file in candidates if os.path.basename(file).startswith(sample + "_epoch_")),
        key=lambda file: int(re.search(r"_epoch_(\d+)\.gif$", file).group(1)),
    )
    return latest


def _is_gif(path):
    return path.lower().endswith(".gif")


def _read_gif(path):
    ok, animation = cv2.imreadanimation(path)
    if not ok or not animation.frames:
        raise ValueError(f"{path!r} is not a readable GIF (OpenCV decoded no frame).")
    durations = [duration for duration in animation.durations if duration > 0]
    fps = 1000.0 / float(np.mean(durations)) if durations else DEFAULT_FPS
    frames = [
        cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB if frame.shape[-1] == 4 else cv2.COLOR_BGR2RGB)
        for frame in animation.frames
    ]
    return frames, fps


def probe(path):
    """`VideoInfo` of a video file or GIF, without decoding it all (GIFs are small and read whole).

    Raises:
        FileNotFoundError: for a missing path.
        ValueError: for a file OpenCV cannot decode, or one with no frame.
    """
    path = resolve_input(path)
    if _is_gif(path):
        frames, fps = _read_gif(path)
        return VideoInfo(path, fps, len(frames), frames[0].shape[0], frames[0].shape[1])
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise ValueError(f"{path!r} is not a video OpenCV can decode (missing codec, corrupt or not a video).")
        ok, frame = capture.read()
        if not ok:
            raise ValueError(f"{path!r} has no decodable frame (a zero-length or truncated video).")
        fps = capture.get(cv2.CAP_PROP_FPS)
        fps = fps if 0 < fps <= _max_stored_fps(path) else DEFAULT_FPS
        num_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or -1
        return VideoInfo(path, float(fps), num_frames, frame.shape[0], frame.shape[1])
    finally:
        capture.release()


def _max_stored_fps(path):
    """The highest frame rate `path`'s container holds (`writer.MAX_FPS`); above it a rate is a time base, not a rate.

    tfvidgen's own 1920 fps MP4 (`--interpolate 64` of 30 fps) reads back as written.
    """
    from tfvidgen.postprocess import writer

    return writer.MAX_FPS.get(os.path.splitext(path)[1].lower(), (999.0, ""))[0]


def iter_frames(path, start=0, stop=None):
    """Streams uint8 RGB frames `(height, width, 3)` of a video file or GIF.

    Args:
        path: as for `resolve_input`.
        start, stop: source frame indices to yield, `[start, stop)`.
    """
    path = resolve_input(path)
    if _is_gif(path):
        frames, _ = _read_gif(path)
        yield from frames[start:stop]
        return
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise ValueError(f"{path!r} is not a video OpenCV can decode (missing codec, corrupt or not a video).")
    try:
        index = 0
        while stop is None or index < stop:
            ok, frame = capture.read()
            if not ok:
                break
            if index >= start:
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()


def read_clip(path, start=0, stop=None, grayscale=None):
    """A whole video or GIF as `(clip, fps)`: float32 `(frames, H, W, C)` in [0, 1] and its frame rate.

    Args:
        grayscale: return one channel (BT.601 luma, `tfvidgen.frames.rgb_to_grey`);
            `None` decides from the content (a video whose three channels
            are equal comes back with one).

    Raises:
        ValueError: when no frame can be decoded.
    """
    info = probe(path)
    frames = list(iter_frames(info.path, start, stop))
    if not frames:
        raise ValueError(f"{info.path!r} has no frame in [{start}, {stop}) (it has {info.num_frames}).")
    clip = np.stack(frames)
    if grayscale is None:
        grayscale = bool(np.all(clip[..., :1] == clip[..., 1:]))
    if grayscale:
        clip = frames_lib.rgb_to_grey(clip)  # A grey pixel (v, v, v) stays v.
    return clip.astype(np.float32) / 255.0, info.fps


def read_video(path, max_frames=None, channels=3):
    """Reads a video file to a float32 clip `(frames, height, width, channels)` in [0, 1].

    Unlike `read_clip`, no frame rate, and the channels are chosen: 3 (RGB)
    or 1 (grey, `tfvidgen.frames.rgb_to_grey`).

    Raises:
        ValueError: when OpenCV cannot open the file or decodes no frame.
    """
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
                frames.append(frames_lib.rgb_to_grey(frame, "bgr"))
            else:
                frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise ValueError(f"No frame could be decoded from {os.fspath(path)!r}.")
    return np.stack(frames).astype(np.float32) / 255.0
