"""Clips from the user's own video files, decoded with OpenCV and streamed.

Files are decoded frame by frame (a 2-hour video is never held in memory: only
one clip's span of resized frames is), several files at once through
`tf.data.Dataset.interleave`. Files that cannot be opened, decode no frames,
are shorter than one clip, or end before their container says they should are
reported with a warning naming the file and counted in `VideoClips.report`;
with `strict=True` they raise instead.
"""

import collections
import glob
import logging
import os
import threading
import zlib

import cv2
import numpy as np
import tensorflow as tf

from tfvidgen import validation
from tfvidgen.data import transforms

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (
    ".mp4",
    ".avi",
    ".mov",
    ".mkv",
    ".webm",
    ".m4v",
    ".gif",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".flv",
    ".ogv",
)
SPLITS = ("train", "validation", "test")


def resolve_video_paths(paths):
    """Expands a glob, a directory, a file or a list of those into video paths.

    Raises:
        FileNotFoundError: when a path does not exist or a pattern matches no file.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise ValueError("`paths` must name at least one video file, directory or glob pattern.")
    resolved = []
    for entry in paths:
        entry = os.fspath(entry)
        if os.path.isdir(entry):
            found = sorted(
                os.path.join(root, name)
                for root, _, names in os.walk(entry)
                for name in names
                if name.lower().endswith(VIDEO_EXTENSIONS)
            )
            if not found:
                raise FileNotFoundError(f"No video files ({', '.join(VIDEO_EXTENSIONS)}) in directory {entry!r}.")
        elif glob.has_magic(entry):
            found = sorted(path for path in glob.glob(entry, recursive=True) if os.path.isfile(path))
            if not found:
                raise FileNotFoundError(f"The pattern {entry!r} matches no file.")
        elif os.path.isfile(entry):
            found = [entry]
        else:
            raise FileNotFoundError(f"No such video file or directory: {entry!r}.")
        resolved.extend(found)
    return resolved


def split_of(path, fractions=(0.8, 0.1, 0.1)):
    """The split (`"train"`, `"validation"`, `"test"`) a file belongs to.

    Assigned by a stable hash of the file name, so every clip of one video
    lands in the same split and the assignment survives moving the folder.
    """
    bucket = (zlib.crc32(os.path.basename(path).encode("utf-8")) % 10_000) / 10_000
    edges = np.cumsum(fractions) / np.sum(fractions)
    return SPLITS[int(np.searchsorted(edges, bucket, side="right"))]


class DecodeReport:
    """Counts of what a `VideoClips` pipeline decoded and skipped (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.clips = 0
        self.skipped = {}
        self.truncated = {}

    def add_clip(self):
        with self._lock:
            self.clips += 1

    def skip(self, path, reason):
        with self._lock:
            if path not in self.skipped:
                logger.warning("Skipping video %s: %s", path, reason)
            self.skipped[path] = reason

    def truncate(self, path, reason):
        with self._lock:
            if path not in self.truncated:
                logger.warning("Video %s ended early: %s", path, reason)
            self.truncated[path] = reason

    @property
    def num_skipped(self):
        return len(self.skipped)

    def __repr__(self):
        return f"DecodeReport(clips={self.clips}, skipped={self.num_skipped}, truncated={len(self.truncated)})"


class VideoClips:
    """Clips of `num_frames` frames from video files, as a `tf.data.Dataset`.

    Args:
        paths: a glob pattern, a directory (searched recursively for video
            extensions), a file, or a list of those.
        num_frames: frames per clip.
        frame_size: `(height, width)` of the output frames, or an int.
        channels: 1 (grayscale) or 3 (RGB).
        frame_step: keep every `frame_step`-th frame inside a clip (temporal
            subsampling).
        clip_stride: source frames between the starts of consecutive clips.
            Defaults to the clip's span, i.e. non-overlapping clips.
        resize: `"crop"` (keep the aspect ratio, centre crop), `"pad"` (keep
            the aspect ratio, pad with black) or `"stretch"`.
        max_clips_per_file: stop reading a file after this many clips.
        split: `None` for every file, or `"train"`, `"validation"`, `"test"`
            to keep the files whose name hashes into that split (see `split_of`).
        split_fractions: the train/validation/test fractions for `split`.
        shuffle_files: shuffle the file order (with `seed`) before decoding.
        seed: int seed for `shuffle_files`.
        num_parallel_reads: files decoded at once; defaults to the CPU count.
        strict: raise on a bad file instead of skipping it with a warning.

    Example:

    >>> clips = VideoClips("videos/*.mp4", num_frames=16, frame_size=64)
    >>> dataset = clips.dataset()  # float32 (16, 64, 64, 3) in [0, 1]
    >>> clips.report               # filled in as the dataset is read
    DecodeReport(clips=0, skipped=0, truncated=0)
    """

    def __init__(
        self,
        paths,
        num_frames,
        frame_size,
        channels=3,
        frame_step=1,
        clip_stride=None,
        resize="crop",
        max_clips_per_file=None,
        split=None,
        split_fractions=(0.8, 0.1, 0.1),
        shuffle_files=False,
        seed=0,
        num_parallel_reads=None,
        strict=False,
    ):
        self.num_frames = validation.positive_int("num_frames", num_frames)
        self.frame_size = validation.frame_size("frame_size", frame_size)
        self.channels = validation.channels("channels", channels)
        self.frame_step = validation.positive_int("frame_step", frame_step)
        self.span = (self.num_frames - 1) * self.frame_step + 1
        self.clip_stride = self.span if clip_stride is None else validation.positive_int("clip_stride", clip_stride)
        self.resize = validation.one_of("resize", resize, transforms.RESIZE_MODES)
        self.max_clips_per_file = (
            None if max_clips_per_file is None else validation.positive_int("max_clips_per_file", max_clips_per_file)
        )
        self.strict = bool(strict)
        self.seed = seed
        self.shuffle_files = shuffle_files
        self.num_parallel_reads = num_parallel_reads or os.cpu_count() or 1
        self.report = DecodeReport()

        files = resolve_video_paths(paths)
        if split is not None:
            validation.one_of("split", split, SPLITS)
            if len(split_fractions) != 3 or min(split_fractions) < 0 or sum(split_fractions) <= 0:
                raise ValueError(
                    "`split_fractions` must be three non-negative numbers (train, validation, "
                    f"test). Received: split_fractions={split_fractions!r}"
                )
            files = [path for path in files if split_of(path, split_fractions) == split]
            if not files:
                raise FileNotFoundError(
                    f"No video file of {paths!r} falls in split {split!r} with "
                    f"split_fractions={tuple(split_fractions)}."
                )
        self.files = files
        if self.strict:
            for path in self.files:
                self._check_file(path)

    def _fail(self, path, reason, truncated=False):
        if self.strict:
            raise ValueError(f"Bad video file {path!r}: {reason}.")
        if truncated:
            self.report.truncate(path, reason)
        else:
            self.report.skip(path, reason)

    def _check_file(self, path):
        capture = cv2.VideoCapture(path)
        try:
            if not capture.isOpened():
                self._fail(path, "OpenCV cannot open it (corrupt or unsupported format)")
            ok, _ = capture.read()
            if not ok:
                self._fail(path, "no frame could be decoded")
            frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            if 0 < frame_count < self.span:
                self._fail(path, f"{frame_count} frames, shorter than one clip ({self.span} frames)")
        finally:
            capture.release()

    def _convert(self, frame):
        if frame.ndim == 2:
            frame = frame[..., None]
        if self.channels == 1:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[..., None] if frame.shape[-1] == 3 else frame
        elif frame.shape[-1] == 1:
            frame = np.repeat(frame, 3, axis=-1)
        else:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        frame = transforms.resize_frame_numpy(frame, self.frame_size, self.resize)
        return frame.reshape(self.frame_size + (self.channels,))

    def iter_file(self, path):
        """Yields uint8 clips `(num_frames, height, width, channels)` of one file."""
        path = path.decode("utf-8") if isinstance(path, bytes) else path
        capture = cv2.VideoCapture(path)
        if not capture.isOpened():
            capture.release()
            self._fail(path, "OpenCV cannot open it (corrupt or unsupported format)")
            return
        expected = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        window = collections.deque(maxlen=self.span)
        decoded = emitted = 0
        try:
            while self.max_clips_per_file is None or emitted < self.max_clips_per_file:
                ok, frame = capture.read()
                if not ok:
                    break
                window.append(self._convert(frame))
                decoded += 1
                start = decoded - self.span
                if start >= 0 and start % self.clip_stride == 0:
                    self.report.add_clip()
                    emitted += 1
                    yield np.stack(list(window)[:: self.frame_step])
        finally:
            capture.release()
        if decoded == 0:
            self._fail(path, "no frame could be decoded")
        elif decoded < self.span:
            self._fail(path, f"{decoded} frames, shorter than one clip ({self.span} frames)")
        elif self.max_clips_per_file is None and expected > 0 and decoded < 0.9 * expected:
            self._fail(path, f"decoded {decoded} of {expected} frames", truncated=True)

    def dataset(self):
        """The clips as float32 `(num_frames, height, width, channels)` in [0, 1]."""
        clip_spec = tf.TensorSpec((self.num_frames,) + self.frame_size + (self.channels,), tf.uint8)
        files = tf.data.Dataset.from_tensor_slices(self.files)
        if self.shuffle_files:
            files = files.shuffle(len(self.files), seed=self.seed, reshuffle_each_iteration=True)
        clips = files.interleave(
            lambda path: tf.data.Dataset.from_generator(self.iter_file, args=(path,), output_signature=clip_spec),
            cycle_length=min(self.num_parallel_reads, len(self.files)),
            block_length=1,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        return clips.map(lambda clip: tf.cast(clip, tf.float32) / 255.0, num_parallel_calls=tf.data.AUTOTUNE)


def video_clips(paths, num_frames, frame_size, channels=3, **kwargs):
    """Shortcut for `VideoClips(paths, ...).dataset()`; see `VideoClips`."""
    return VideoClips(paths, num_frames, frame_size, channels=channels, **kwargs).dataset()
