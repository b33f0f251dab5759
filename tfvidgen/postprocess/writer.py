"""`VideoWriter`: MP4 (H.264 where OpenCV has it, else MPEG-4 Part 2) or GIF, written atomically."""

import contextlib
import functools
import os
import shutil
import tempfile
import warnings

import cv2
import numpy as np

from tfvidgen import atomic_files
from tfvidgen.postprocess import clips as clips_lib

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".gif")
MAX_GIF_FPS = 50.0  # GIF delays are whole centiseconds; viewers slow delays under 2 cs to 10 cs.


@contextlib.contextmanager
def _quiet_stderr():
    """Silences FFmpeg's C-level messages while probing codecs that may be missing."""
    descriptor = 2  # The C libraries write to file descriptor 2, whatever sys.stderr is.
    try:
        saved = os.dup(descriptor)
    except OSError:  # No descriptor 2: nothing to silence.
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), descriptor)
        try:
            yield
        finally:
            os.dup2(saved, descriptor)
            os.close(saved)


@functools.cache
def h264_available():
    """Whether this OpenCV build can encode H.264 MP4 (pip's opencv-python-headless cannot)."""
    directory = tempfile.mkdtemp(prefix="tfvidgen-codec-")
    path = os.path.join(directory, "probe.mp4")
    with _quiet_stderr():
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"avc1"), 8.0, (16, 16))
        available = writer.isOpened()
        writer.release()
    shutil.rmtree(directory, ignore_errors=True)
    return available


def _codec_for(extension):
    if extension in (".mp4", ".m4v", ".mov"):
        return "avc1" if h264_available() else "mp4v"
    return {".avi": "MJPG", ".mkv": "XVID"}[extension]


class VideoWriter:
    """Writes frames to a video file or GIF under a temporary name, renamed into place on success.

    Until `close()` succeeds the frames go to a hidden `.NAME.tmp-*` file in the
    destination directory; an error, an interrupt or a kill leaves no file under
    the final name (and `close` after an error, or `abort`, deletes the
    temporary one). Frames are `(height, width, channels)`, uint8 or float in
    [0, 1], channels 1 or 3, all of one size.

    Args:
        path: output `.mp4` (H.264 when this OpenCV build encodes it, else
            `mp4v`), `.mov`, `.m4v`, `.avi`, `.mkv` or `.gif`.
        fps: frames per second. A GIF above 50 fps keeps every n-th frame
            (GIF timing is in centiseconds), with a warning.

    Example:

    >>> with VideoWriter("out.mp4", fps=24) as writer:
    ...     for frame in frames:
    ...         writer.write(frame)
    """

    def __init__(self, path, fps):
        self.path = os.fspath(path)
        self.extension = os.path.splitext(self.path)[1].lower()
        if self.extension not in VIDEO_EXTENSIONS:
            raise ValueError(
                f"Unsupported video extension {self.extension!r} of {self.path!r}; expected one of {VIDEO_EXTENSIONS}."
            )
        self.fps = clips_lib.positive_number("fps", fps)
        self.temporary_path = atomic_files.temporary_path(self.path)
        self.codec = "gif" if self.extension == ".gif" else _codec_for(self.extension)
        self.keep_every = 1
        if self.codec == "gif" and self.fps > MAX_GIF_FPS:
            self.keep_every = int(np.ceil(self.fps / MAX_GIF_FPS))
            warnings.warn(
                f"A GIF cannot play {self.fps:g} fps; writing every {self.keep_every}th frame at "
                f"{self.fps / self.keep_every:g} fps. Write an .mp4 to keep every frame.",
                stacklevel=2,
            )
        self.num_frames = 0
        self.size = None
        self._writer = None
        self._gif_frames = []
        self._closed = False

    def _open(self, height, width):
        self._writer = cv2.VideoWriter(
            self.temporary_path, cv2.VideoWriter_fourcc(*self.codec), self.fps, (width, height)
        )
        if not self._writer.isOpened():
            raise OSError(f"OpenCV could not open a {self.codec} writer for {self.path!r}.")

    def write(self, frame):
        """Appends one frame."""
        if self._closed:
            raise ValueError(f"The writer of {self.path!r} is closed.")
        frame = clips_lib.to_uint8_frame(frame)
        if frame.ndim == 2:
            frame = frame[..., None]
        if frame.ndim != 3 or frame.shape[-1] not in (1, 3):
            raise ValueError(f"A frame must be (height, width, 1 or 3 channels). Received shape {frame.shape}.")
        if self.size is None:
            self.size = frame.shape[:2]
            if self.codec != "gif":
                self._open(*self.size)
        elif frame.shape[:2] != self.size:
            raise ValueError(
                f"Frame {self.num_frames} is {frame.shape[1]}x{frame.shape[0]}, the video "
                f"{self.size[1]}x{self.size[0]} (width x height): every frame of a video must have one size."
            )
        bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR if frame.shape[-1] == 1 else cv2.COLOR_RGB2BGR)
        if self.codec == "gif":
            if self.num_frames % self.keep_every == 0:
                self._gif_frames.append(bgr)
        else:
            self._writer.write(bgr)
        self.num_frames += 1

    def _write_gif(self):
        fps = self.fps / self.keep_every
        # Cumulative rounding to centiseconds keeps the average frame rate exact.
        ticks = np.round(np.arange(len(self._gif_frames) + 1) * 100.0 / fps).astype(int)
        animation = cv2.Animation()
        animation.frames = self._gif_frames
        animation.durations = [int(10 * max(1, delay)) for delay in np.diff(ticks)]
        animation.loop_count = 0
        if not cv2.imwriteanimation(self.temporary_path, animation):
            raise OSError(f"OpenCV could not write the GIF {self.path!r}.")

    def close(self):
        """Finishes the file and renames it to `path`; returns `path`."""
        if self._closed:
            return self.path
        self._closed = True
        try:
            if self.num_frames == 0:
                raise ValueError(f"No frame was written to {self.path!r}; a video needs at least one.")
            if self.codec == "gif":
                self._write_gif()
            else:
                self._writer.release()
            os.replace(self.temporary_path, self.path)
        except BaseException:
            self._remove_temporary()
            raise
        return self.path

    def abort(self):
        """Discards what was written; nothing appears under `path`."""
        self._closed = True
        if self._writer is not None:
            self._writer.release()
        self._remove_temporary()

    def _remove_temporary(self):
        with contextlib.suppress(OSError):
            os.remove(self.temporary_path)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def write_clip(path, clip, fps=8):
    """Writes a clip `(frames, H, W, C)` (float in [0, 1] or uint8) to `path` atomically; returns `path`."""
    clip = clips_lib.as_clip(clip)
    with VideoWriter(path, fps) as writer:
        for frame in clip:
            writer.write(frame)
    return writer.path
