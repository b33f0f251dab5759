"""Clips from the user's own video files, decoded with OpenCV and streamed.

Files are decoded frame by frame (a 2-hour video is never held in memory: only
one clip's span of resized frames is), several files at once through
`tf.data.Dataset.interleave`. Files that cannot be opened, decode no frames,
are shorter than one clip, or end before their container says they should are
reported with a warning naming the file and counted in `VideoClips.report`;
with `strict=True` they raise instead. When no file can give a clip, the
constructor raises, naming every file and why.

Splits: a large collection is split by file (a stable hash of the name); one
video or a handful is split along time, each video's first 80% of frames for
training, then validation, then test, with one clip's span of frames left out
between them (`split_by="auto"` picks, `"file"` or `"time"` force one).
"""

import collections
import glob
import logging
import os
import threading
import zlib

import cv2
import numpy as np
from tfvidgen.lazy import tensorflow as tf

from tfvidgen import frames as frames_lib
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
SPLIT_MODES = ("auto", "file", "time")
# Below this many files a file-level split is too coarse (one file would be a whole split): split along time.
MIN_FILES_FOR_FILE_SPLIT = 10


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


def split_mode(files, split_by="auto", fractions=(0.8, 0.1, 0.1)):
    """`"file"` or `"time"`: how `VideoClips` splits `files` for `split_by` (`"auto"`, `"file"`, `"time"`).

    `"auto"` splits by file when there are at least `MIN_FILES_FOR_FILE_SPLIT`
    files and every split gets one, else along time.
    """
    validation.one_of("split_by", split_by, SPLIT_MODES)
    if split_by != "auto":
        return split_by
    if len(files) < MIN_FILES_FOR_FILE_SPLIT:
        return "time"
    used = {split_of(path, fractions) for path in files}
    return "file" if used == set(SPLITS) else "time"


def time_ranges(num_frames, span, fractions=(0.8, 0.1, 0.1)):
    """`{split: (first, stop)}` frame ranges of one video split along time.

    The train range comes first, then validation, then test, sized by
    `fractions` of the frames left after two gaps of `span` frames (one
    clip), which keep the splits' clips from sharing near-identical frames.
    """
    usable = max(num_frames - 2 * span, 0)
    edges = np.round(np.cumsum(fractions) / np.sum(fractions) * usable).astype(int)
    train = (0, int(edges[0]))
    valid = (train[1] + span, train[1] + span + int(edges[1] - edges[0]))
    test = (valid[1] + span, max(num_frames, valid[1] + span))
    return {"train": train, "validation": valid, "test": test}


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
        split: `None` for every file and frame, or `"train"`, `"validation"`,
            `"test"`.
        split_fractions: the train/validation/test fractions for `split`.
        split_by: `"auto"` (default: by file for 10 files or more that fill
            every split, else along time), `"file"` (whole files by a hash of
            their name, see `split_of`) or `"time"` (each video's frames, see
            `time_ranges`). `split_mode` is the one used.
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
        split_by="auto",
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
        self.split = split
        self.split_mode = None
        self.frame_ranges = {}  # path -> (first, stop) source frames, for a split along time.
        if split is not None:
            validation.one_of("split", split, SPLITS)
            if len(split_fractions) != 3 or min(split_fractions) < 0 or sum(split_fractions) <= 0:
                raise ValueError(
                    "`split_fractions` must be three non-negative numbers (train, validation, "
                    f"test). Received: split_fractions={split_fractions!r}"
                )
            self.split_mode = split_mode(files, split_by, split_fractions)
            if self.split_mode == "file":
                files = [path for path in files if split_of(path, split_fractions) == split]
                if not files:
                    raise FileNotFoundError(
                        f"No video file of {paths!r} falls in split {split!r} with "
                        f"split_fractions={tuple(split_fractions)}; pass split_by='time' to split each video "
                        "along time instead."
                    )
        self.files = files
        self._check_usable(split_fractions)

    def _scan(self, path):
        """`(num_frames, None)` for a decodable file, or `(0, reason)`; grabs frames, decodes none to RGB."""
        capture = cv2.VideoCapture(path)
        try:
            if not capture.isOpened():
                return 0, "OpenCV cannot open it (corrupt or unsupported format)"
            if not capture.grab():
                return 0, "no frame could be decoded"
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            if count <= 0:  # Containers without a frame count (some GIFs, streams): count them.
                count = 1
                while capture.grab():
                    count += 1
            return count, None
        finally:
            capture.release()

    def _check_usable(self, split_fractions):
        """Raises when no file can give a clip (strict: when any file cannot), naming each file and why.

        With a split along time, also sets each file's frame range.
        """
        reasons = {}
        for path in self.files:
            count, reason = self._scan(path)
            if reason is None and count < self.span:
                reason = f"{count} frames, shorter than one clip ({self.span} frames)"
            if reason is None and self.split_mode == "time":
                first, stop = time_ranges(count, self.span, split_fractions)[self.split]
                self.frame_ranges[path] = (first, stop)
                if stop - first < self.span:
                    reason = (
                        f"its {self.split} part along time, frames {first}-{stop} of {count}, is shorter than one "
                        f"clip ({self.span} frames)"
                    )
            if reason is not None:
                if self.strict:
                    raise ValueError(f"Bad video file {path!r}: {reason}.")
                reasons[path] = reason
            elif self.split_mode != "time" and not self.strict:
                return  # One usable file is enough to go on; bad ones are skipped and reported as read.
        usable = [path for path in self.files if path not in reasons]
        if usable:
            for path, reason in reasons.items():
                self.report.skip(path, reason)
        else:
            where = "" if self.split is None else f" for split {self.split!r} (split by {self.split_mode})"
            listing = "; ".join(f"{path}: {reason}" for path, reason in reasons.items())
            raise ValueError(f"No usable video clip{where}: {listing}.")
        self.files = usable

    def _fail(self, path, reason, truncated=False):
        if self.strict:
            raise ValueError(f"Bad video file {path!r}: {reason}.")
        if truncated:
            self.report.truncate(path, reason)
        else:
            self.report.skip(path, reason)

    def _convert(self, frame):
        if frame.ndim == 2:
            frame = frame[..., None]
        if self.channels == 1:
            frame = frames_lib.rgb_to_grey(frame, "bgr") if frame.shape[-1] == 3 else frame
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
        first, stop = self.frame_ranges.get(path, (0, None))
        window = collections.deque(maxlen=self.span)
        decoded = emitted = 0
        try:
            for _ in range(first):  # Frames before this split's range: demuxed, not converted.
                if not capture.grab():
                    break
            if expected > 0:  # The frames this split should decode.
                expected = (expected if stop is None else min(expected, stop)) - first
            while self.max_clips_per_file is None or emitted < self.max_clips_per_file:
                if stop is not None and first + decoded >= stop:
                    break
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


def no_clip_message(what, source):
    """The error for a source whose every file was skipped: `what` is the split or "training"/"validation"."""
    return (
        f"No {what} clip could be read from {source!r}: every file was skipped as it was decoded "
        "(see the warnings above for each file and why)."
    )


def video_clips(paths, num_frames, frame_size, channels=3, **kwargs):
    """Shortcut for `VideoClips(paths, ...).dataset()`; see `VideoClips`."""
    return VideoClips(paths, num_frames, frame_size, channels=channels, **kwargs).dataset()
