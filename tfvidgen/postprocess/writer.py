"""`VideoWriter`: MP4 (H.264 where OpenCV has it, else MPEG-4 Part 2) or GIF, written atomically and checked."""

import contextlib
import fractions
import functools
import os
import shutil
import tempfile
import warnings

import cv2
import numpy as np

from tfvidgen import atomic_files
from tfvidgen.postprocess import clips as clips_lib
from tfvidgen.postprocess import containers
from tfvidgen.postprocess import stills

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".gif")
DEFAULT_FPS = 8  # Model clips (16-20 frames) play for about two seconds.
# Video extensions of `write_mp4` (the .mp4 family is written as H.264 where OpenCV encodes it, `_codec_for`).
VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}
MAX_GIF_FPS = 50.0  # GIF delays are whole centiseconds; viewers slow delays under 2 cs to 10 cs.
# The frame rates each format holds, measured with OpenCV 5.1's FFmpeg: OpenCV gives FFmpeg the frame rate as a
# fraction of at most 3 decimals (29.97 -> 2997/100) and MPEG-4 Part 2 (mp4v, XVID) refuses a numerator above 65535
# (89910 fps failed to open); the AVI muxer dropped 12 of 31 frames at 1001 fps; Matroska's millisecond timestamps
# read 65535 fps back as 30000. Below 0.01 fps (100 s a frame) OpenCV's fraction rounds to 0.
MIN_FPS = 0.01
MAX_FPS = {
    ".mp4": (65535.0, "MPEG-4 stores no more"),
    ".m4v": (65535.0, "MPEG-4 stores no more"),
    ".mov": (65535.0, "MPEG-4 stores no more"),
    ".avi": (1000.0, "FFmpeg's AVI writer drops frames above"),
    ".mkv": (1000.0, "Matroska's timestamps are in milliseconds"),
    ".gif": (65535.0, "no format here holds more; above 50 fps a GIF keeps every n-th frame"),
}
_MPEG4_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv")  # mp4v/avc1 and XVID; AVI's MJPG takes any fraction.


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


def _opencv_frame_rate(fps):
    """The fraction OpenCV's FFmpeg writer stores for `fps`: decimal digits until within 0.001 (cap_ffmpeg_impl)."""
    rate, base = int(fps + 0.5), 1
    while abs(rate / base - fps) > 0.001:
        base *= 10
        rate = int(fps * base + 0.5)
    return fractions.Fraction(rate, base)


def fps_range_problem(path, fps):
    """Why a file like `path` (by its extension) cannot play at `fps`, in words, or None when it can."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    maximum, reason = MAX_FPS.get(extension, (65535.0, ""))
    if MIN_FPS <= fps <= maximum:
        return None
    if fps < MIN_FPS:
        reason = "OpenCV rounds slower rates to 0"
    kind = f"an {extension}" if extension[1:2] in ("a", "m") else f"a {extension}"
    return f"{kind} file holds {MIN_FPS:g} to {maximum:g} frames per second ({reason})"


def storable_fps(path, fps):
    """The frame rate `path`'s format will play: `fps`, or (MPEG-4, above 65.535 fps) it with fewer decimals.

    Raises:
        ValueError: naming `path`, the frame rate and the range its format
            holds (`fps_range_problem`), before anything is written.
    """
    fps = clips_lib.positive_number("fps", fps)
    problem = fps_range_problem(path, fps)
    if problem:
        raise ValueError(f"Cannot write {os.fspath(path)!r} at {fps:g} fps: {problem}.")
    if os.path.splitext(os.fspath(path))[1].lower() not in _MPEG4_EXTENSIONS:
        return fps
    for candidate in (fps, round(fps, 2), round(fps, 1), float(round(fps))):
        # 1234.5678 fps is 154321/125 to OpenCV: refused. 1234.57 differs by 0.0002%.
        if 0 < _opencv_frame_rate(candidate).numerator <= 65535:
            return candidate
    return float(round(fps))


def _sync(path):
    """fsync: a write the file system could not complete (delayed allocation on a full disk) raises here."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _storage_error(path, probe_bytes=2**20):
    """Why writes to `path` fail, as the system's `OSError` (ENOSPC, EDQUOT, EFBIG), or None if a probe write fits.

    OpenCV hides FFmpeg's write errors; appending to the (doomed) temporary
    asks the file system directly: a full disk, a quota or a file-size limit.
    """
    try:
        with open(path, "ab") as file:
            file.write(bytes(probe_bytes))
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        return error
    return None


def _frame_count_problem(path, extension, expected):
    """The frame count OpenCV reads back against the frames written (MKV's is estimated from its duration: skipped)."""
    if extension == ".mkv":
        return None
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            return "OpenCV cannot read back the file it wrote"
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        # FFmpeg reads the stored count; other backends (MSMF, GStreamer) estimate it from duration x fps.
        tolerance = 0 if capture.getBackendName() == "FFMPEG" else 1
    finally:
        capture.release()
    if count > 0 and abs(count - expected) > tolerance:
        return f"it holds {count} of the {expected} frames written"
    return None


class VideoWriter:
    """Writes frames to a video file or GIF under a temporary name, renamed into place on success.

    Until `close()` succeeds the frames go to a hidden `.NAME.tmp-PID-*` file in
    the destination directory; an error, an interrupt or a kill leaves the file
    under the final name as it was (and `close` after an error, or `abort`,
    deletes the temporary one; the next writer of `path` deletes one a killed
    writer left). `close()` checks what the encoder wrote (synced to disk, the
    container's sizes, the frame count OpenCV reads back) before renaming: a
    full disk raises `OSError` "could not write 'PATH': no space left on device".
    Frames are `(height, width, channels)`, uint8 or float in [0, 1], channels
    1 or 3, all of one size.

    Args:
        path: output `.mp4` (H.264 when this OpenCV build encodes it, else
            `mp4v`), `.mov`, `.m4v`, `.avi`, `.mkv` or `.gif`.
        fps: frames per second, from 0.01 to 65535 for MP4, MOV and GIF, to
            1000 for AVI and MKV (`MAX_FPS`); MPEG-4 above 65.535 fps keeps
            fewer decimals (`writer.fps` is the rate written). A GIF above 50
            fps keeps every n-th frame (GIF timing is in centiseconds), with a
            warning.

    Raises:
        ValueError: for an extension or frame rate no file here can hold,
            before anything is written.
        OSError: when the file cannot be written, naming `path` and the cause.

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
        self.fps = storable_fps(self.path, fps)
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
        try:
            self.temporary_path = atomic_files.temporary_path(self.path)
        except OSError as error:
            raise atomic_files.write_error(self.path, error) from error

    def _open(self, height, width):
        self._writer = cv2.VideoWriter(
            self.temporary_path, cv2.VideoWriter_fourcc(*self.codec), self.fps, (width, height)
        )
        if not self._writer.isOpened():
            opened = f"OpenCV could not open a {self.codec} writer for {width}x{height} frames at {self.fps:g} fps"
            error = _storage_error(self.temporary_path) or atomic_files.write_failure(self.path, opened)
            self.abort()
            raise atomic_files.write_error(self.path, error)

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
        # Encoded in memory and written by Python: cv2.imwriteanimation reports success on a full disk.
        ok, encoded = cv2.imencodeanimation(".gif", animation)
        if not ok:
            raise atomic_files.write_failure(self.path, "OpenCV could not encode the GIF")
        with open(self.temporary_path, "wb") as file:
            file.write(encoded)
            file.flush()
            os.fsync(file.fileno())

    def _finish_video(self):
        self._writer.release()
        _sync(self.temporary_path)
        problem = containers.problem(self.temporary_path, self.extension) or _frame_count_problem(
            self.temporary_path, self.extension, self.num_frames
        )
        if problem:
            raise _storage_error(self.temporary_path) or atomic_files.write_failure(
                self.path, f"the {self.codec} encoder's file is incomplete ({problem})"
            )

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
                self._finish_video()
            os.replace(self.temporary_path, self.path)
        except BaseException as error:
            self._remove_temporary()
            if isinstance(error, OSError):
                raise atomic_files.write_error(self.path, error) from error
            raise
        return self.path

    def abort(self):
        """Discards what was written; the file under `path` stays as it was."""
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


def write_video(path, clip, fps=DEFAULT_FPS, scale=1):
    """Writes a clip as GIF or video, chosen by the file extension, atomically; returns `path`.

    Like `write_clip`, with an integer `scale` (nearest neighbour) for small
    frames: the file is written under a temporary name, checked and renamed
    into place (`VideoWriter`), so an interrupted or failed write (a full disk
    raises `OSError` naming `path`) leaves the file under `path` as it was.
    """
    return write_clip(path, stills.upscale_nearest(clips_lib.to_uint8(clip), scale), fps)


def write_gif(path, clip, fps=DEFAULT_FPS, scale=1):
    """Writes a clip to an animated, looping GIF, atomically (`write_video` for a `.gif` path only)."""
    if not os.fspath(path).lower().endswith(".gif"):
        raise ValueError(f"`path` must end in .gif. Received: {os.fspath(path)!r}")
    return write_video(path, clip, fps, scale)


def write_mp4(path, clip, fps=DEFAULT_FPS, scale=1):
    """Writes a clip to a video file (`.mp4`, `.m4v`, `.mov`, `.avi`, `.mkv`), atomically (`write_video`)."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in VIDEO_CODECS:
        raise ValueError(f"Unsupported video extension {extension!r}; expected one of {sorted(VIDEO_CODECS)}.")
    return write_video(path, clip, fps, scale)


def gif_bytes(clip, fps=DEFAULT_FPS, scale=1):
    """The clip as looping-GIF bytes (every frame `1000 / fps` ms), e.g. for `IPython.display.Image(data=...)`."""
    frames = stills.upscale_nearest(clips_lib.to_uint8(clip), scale)
    animation = cv2.Animation()
    animation.frames = [
        cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR if frame.shape[-1] == 1 else cv2.COLOR_RGB2BGR) for frame in frames
    ]
    animation.durations = [int(round(1000 / fps))] * len(frames)
    animation.loop_count = 0
    ok, encoded = cv2.imencodeanimation(".gif", animation)
    if not ok:
        raise OSError("OpenCV could not encode the GIF.")
    return bytes(encoded)
