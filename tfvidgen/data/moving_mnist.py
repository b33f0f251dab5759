"""Moving MNIST generated on the fly (Srivastava et al., 2015).

Digits bounce inside the frame with a constant speed and reflect off the
borders; overlapping digits are combined with a pixel-wise maximum, as in the
original benchmark and OpenSTL's training data. `moving_mnist` renders
in chunks with TensorFlow ops, each chunk drawn from a stateless key folded from
`(seed, split, chunk index)`, so a dataset is the same for a seed whatever the
order or parallelism it is read with, and no Python runs in the input pipeline.
`generate_moving_digits` is the NumPy renderer of the host-side `ClipBatches`.
"""

import cv2
import numpy as np
from tfvidgen.lazy import tensorflow as tf

from tfvidgen import validation
from tfvidgen.data import digits as digit_sources


def _trajectories(rng, num_clips, num_frames, num_digits, limits, speed_range):
    """Integer top-left positions `(clips, frames, digits, 2)` bouncing in `limits`."""
    limits = np.asarray(limits, np.float64)
    position = rng.uniform(0.0, 1.0, size=(num_clips, num_digits, 2)) * limits
    angle = rng.uniform(0.0, 2.0 * np.pi, size=(num_clips, num_digits))
    speed = rng.uniform(speed_range[0], speed_range[1], size=(num_clips, num_digits))
    velocity = np.stack([np.sin(angle), np.cos(angle)], axis=-1) * speed[..., None]
    positions = np.empty((num_clips, num_frames, num_digits, 2), np.int32)
    for frame in range(num_frames):
        positions[:, frame] = np.rint(position)
        position = position + velocity
        # Reflect off the borders: a digit never leaves the frame.
        below, above = position < 0.0, position > limits
        position = np.where(below, -position, position)
        position = np.where(above, 2.0 * limits - position, position)
        velocity = np.where(below | above, -velocity, velocity)
        position = np.clip(position, 0.0, limits)
    return positions


def generate_moving_digits(
    rng,
    images,
    labels,
    num_clips,
    num_frames,
    frame_size,
    num_digits=2,
    speed_range=(2.0, 5.0),
):
    """Renders a batch of Moving MNIST clips with NumPy.

    Args:
        rng: a `numpy.random.Generator`.
        images: uint8 `(N, S, S)` digit images (white on black).
        labels: int `(N,)` digit labels.
        num_clips: number of clips to render.
        num_frames: frames per clip.
        frame_size: `(height, width)` of a frame, each at least `S`.
        num_digits: digits per clip.
        speed_range: `(low, high)` speed in pixels per frame.

    Returns:
        `(clips, clip_labels, positions)`: uint8 `(num_clips, num_frames,
        height, width)`, int32 `(num_clips, num_digits)` and int32
        `(num_clips, num_frames, num_digits, 2)` top-left `(y, x)` positions.
    """
    height, width = frame_size
    digit = images.shape[1]
    limits = (height - digit, width - digit)
    choice = rng.integers(0, len(images), size=(num_clips, num_digits))
    positions = _trajectories(rng, num_clips, num_frames, num_digits, limits, speed_range)

    canvas = np.zeros(num_clips * num_frames * height * width, np.uint8)
    # Scatter each digit's pixels into the flat canvas: one index array per digit
    # slot, so indices within one assignment never collide.
    patch = (np.arange(digit)[:, None] * width + np.arange(digit)[None, :]).ravel()
    frame_base = (np.arange(num_clips * num_frames) * height * width).reshape(num_clips, num_frames)
    for slot in range(num_digits):
        corner = frame_base + positions[:, :, slot, 0] * width + positions[:, :, slot, 1]
        index = corner.reshape(-1, 1) + patch[None, :]
        pixels = images[choice[:, slot]].reshape(num_clips, 1, digit * digit)
        pixels = np.broadcast_to(pixels, (num_clips, num_frames, digit * digit))
        canvas[index] = np.maximum(canvas[index], pixels.reshape(-1, digit * digit))
    clips = canvas.reshape(num_clips, num_frames, height, width)
    return clips, labels[choice].astype(np.int32), positions


def tensorflow_ops():
    """TensorFlow's ops under the `keras.ops` names `bounce` and `place_digits` use (any Keras backend)."""
    return _TensorFlowOps()


class _TensorFlowOps:
    """`keras.ops` names bound to TensorFlow: the shared math stays TF ops in `tf.data` whatever the Keras backend."""

    def __getattr__(self, name):
        return {
            "abs": tf.abs,
            "arange": lambda stop, dtype: tf.range(stop, dtype=dtype),
            "cast": tf.cast,
            "cos": tf.cos,
            "einsum": tf.einsum,
            "matmul": tf.linalg.matmul,
            "max": lambda x, axis: tf.reduce_max(x, axis=axis),
            "maximum": tf.maximum,
            "mod": tf.math.floormod,
            "one_hot": tf.one_hot,
            "round": tf.round,
            "sin": tf.sin,
            "stack": tf.stack,
            "take": lambda x, indices, axis: tf.gather(x, indices, axis=axis),
            "where": tf.where,
            "zeros_like": tf.zeros_like,
        }[name]


def bounce(start, angle, speed, num_frames, limits, ops):
    """Integer top-left positions `(clips, frames, digits, 2)` of digits bouncing inside `limits`.

    The closed form of a reflected walk: unfolded, the motion is a straight line;
    folding it by `2 * limit` and mirroring the second half gives the bounces.
    Shared by the TensorFlow and the `keras.ops` renderers.

    Args:
        start: float32 `(clips, digits, 2)` start positions in `[0, limits]`.
        angle: float32 `(clips, digits)` directions in radians.
        speed: float32 `(clips, digits)` speeds in pixels per frame.
        num_frames: frames per clip.
        limits: float32 `(2,)` tensor, the largest top-left `(y, x)`.
        ops: `keras.ops` or `tensorflow_ops()`.
    """
    velocity = ops.stack([ops.sin(angle), ops.cos(angle)], axis=-1) * speed[..., None]
    time = ops.arange(num_frames, dtype="float32")[None, :, None, None]
    unfolded = start[:, None] + velocity[:, None] * time
    folded = ops.mod(unfolded, 2.0 * ops.maximum(limits, 1.0))
    folded = limits - ops.abs(limits - folded)
    # A digit as large as the frame has nowhere to move.
    positions = ops.where(limits > 0.0, folded, ops.zeros_like(folded))
    return ops.cast(ops.round(positions), "int32")


def place_digits(images, choice, positions, frame_size, ops):
    """uint8 frames `(clips, frames, height, width)`: the chosen digits at `positions`, overlaps by maximum.

    Each digit is placed by two one-hot shifts, rows then columns:
    placed = rows @ glyph @ columns^T, exact for integer pixel values (even in bfloat16, which holds 0-255).

    Args:
        images: uint8 `(N, S, S)` digit images.
        choice: int32 `(clips, digits)` indices into `images`.
        positions: int32 `(clips, frames, digits, 2)` top-left `(y, x)` of each digit.
        frame_size: `(height, width)`.
        ops: `keras.ops` or `tensorflow_ops()`.
    """
    height, width = frame_size
    digit = images.shape[1]
    glyphs = ops.cast(ops.take(images, choice, axis=0), "float32")  # (clips, digits, S, S)
    offsets = ops.arange(digit, dtype="int32")
    rows = ops.one_hot(positions[..., 0, None] + offsets, height)  # (clips, frames, digits, S, H)
    columns = ops.one_hot(positions[..., 1, None] + offsets, width)  # (clips, frames, digits, S, W)
    placed = ops.einsum("ctdsh,cdsk->ctdhk", rows, glyphs)
    placed = ops.matmul(placed, columns)  # (clips, frames, digits, H, W)
    # Overlapping digits combine with a pixel-wise maximum, as in the benchmark.
    return ops.cast(ops.max(placed, axis=2), "uint8")


def render_moving_digits(seed, images, labels, num_clips, num_frames, frame_size, num_digits=2, speed_range=(2.0, 5.0)):
    """Renders a batch of Moving MNIST clips with TensorFlow ops (no Python in the graph).

    Runs inside `tf.data` without the GIL (a Python renderer there keeps
    interpreter shutdown waiting on pipeline threads) and on any device. The
    draws are stateless: the same `seed` gives the same clips on every run.
    `tfvidgen.data.device_moving_mnist` renders the same way with `keras.ops`.

    Args:
        seed: int64 `(2,)` tensor, the stateless random key of this batch.
        images: uint8 `(N, S, S)` digit images (white on black).
        labels: int32 `(N,)` digit labels.
        num_clips: number of clips to render.
        num_frames: frames per clip.
        frame_size: `(height, width)` of a frame, each at least `S`.
        num_digits: digits per clip.
        speed_range: `(low, high)` speed in pixels per frame.

    Returns:
        `(clips, clip_labels, positions)`: uint8 `(num_clips, num_frames,
        height, width)`, int32 `(num_clips, num_digits)` and int32
        `(num_clips, num_frames, num_digits, 2)` top-left `(y, x)` positions.
    """
    height, width = frame_size
    digit = images.shape[1]
    keys = tf.random.experimental.stateless_split(seed, 5)
    shape = (num_clips, num_digits)
    choice = tf.random.stateless_uniform(shape, keys[0], minval=0, maxval=images.shape[0], dtype=tf.int32)
    limits = tf.constant([height - digit, width - digit], tf.float32)
    start = tf.random.stateless_uniform(shape + (2,), keys[1]) * limits
    angle = tf.random.stateless_uniform(shape, keys[2], maxval=2.0 * np.pi)
    speed = tf.random.stateless_uniform(shape, keys[3], minval=speed_range[0], maxval=speed_range[1])
    ops = tensorflow_ops()
    positions = bounce(start, angle, speed, num_frames, limits, ops)
    clips = place_digits(images, choice, positions, frame_size, ops)
    return clips, tf.gather(labels, choice), positions


# The benchmark's defaults: 2 digits moving at 2-5 pixels per frame.
NUM_DIGITS = 2
SPEED_RANGE = (2.0, 5.0)


def default_digit_size(height, width):
    """28 pixels in a 64x64 frame, scaled with the frame's smaller side (at least 4)."""
    return max(4, int(round(28 * min(height, width) / 64)))


def digit_bank(digits, split, digit_size, mnist_path=None, download=False):
    """`(images, labels)`: the digit images of `split`, `(n, digit_size, digit_size)` uint8, and their labels."""
    if digits == "glyphs":
        images, labels = digit_sources.glyph_digits(split)
    else:
        images, labels = digit_sources.mnist_digits(split, path=mnist_path, download=download)
    if digit_size != images.shape[1]:
        images = np.stack(
            [cv2.resize(image, (digit_size, digit_size), interpolation=cv2.INTER_AREA) for image in images]
        )
    return images, labels


def moving_mnist(
    num_clips=None,
    num_frames=20,
    frame_size=64,
    channels=1,
    num_digits=NUM_DIGITS,
    speed_range=SPEED_RANGE,
    digit_size=None,
    digits="glyphs",
    mnist_path=None,
    download=False,
    split="train",
    seed=0,
    return_metadata=False,
    chunk_size=64,
):
    """A `tf.data.Dataset` of Moving MNIST clips generated on the fly.

    Args:
        num_clips: number of clips, or `None` for an infinite dataset.
        num_frames: frames per clip.
        frame_size: frame `(height, width)`, or an int for square frames.
        channels: 1 (grayscale) or 3 (the gray frames repeated as RGB).
        num_digits: digits moving in each clip.
        speed_range: `(low, high)` speed of a digit in pixels per frame.
        digit_size: side of a digit in pixels. Defaults to 28 scaled by
            `min(height, width) / 64` (28 in a 64x64 frame, as in the benchmark).
        digits: `"glyphs"` (built-in, offline) or `"mnist"` (real MNIST
            digits from `mnist_path` or Keras' cache).
        mnist_path: path of a Keras-format `mnist.npz` for `digits="mnist"`.
        download: allow Keras to download MNIST when it is not cached.
        split: `"train"`, `"validation"` or `"test"`. Splits use disjoint
            random streams and disjoint digit images (MNIST's test digits, or
            held-out glyph variants), so held-out clips never repeat training ones.
        seed: int seed; the same seed and arguments give the same clips.
        return_metadata: when True, each element is a dict with `"frames"`,
            `"labels"` (int32 `(num_digits,)`) and `"trajectories"` (int32
            `(num_frames, num_digits, 2)`, the top-left `(y, x)` of each digit).
        chunk_size: clips rendered per vectorised call.

    Returns:
        A dataset of float32 clips `(num_frames, height, width, channels)` in
        [0, 1] (or dicts, see `return_metadata`).

    Example:

    >>> dataset = moving_mnist(num_clips=8, num_frames=10, frame_size=32)
    >>> next(iter(dataset)).shape
    TensorShape([10, 32, 32, 1])
    """
    if num_clips is not None:
        num_clips = validation.positive_int("num_clips", num_clips)
    num_frames = validation.positive_int("num_frames", num_frames)
    height, width = validation.frame_size("frame_size", frame_size)
    channels = validation.channels("channels", channels)
    num_digits = validation.positive_int("num_digits", num_digits)
    chunk_size = validation.positive_int("chunk_size", chunk_size)
    validation.one_of("digits", digits, digit_sources.DIGIT_SOURCES)
    validation.one_of("split", split, digit_sources.SPLITS)
    if not isinstance(seed, int):
        raise TypeError(f"`seed` must be an int. Received: seed={seed!r}")
    if not isinstance(speed_range, (tuple, list)) or len(speed_range) != 2 or not 0 <= speed_range[0] <= speed_range[1]:
        raise ValueError(
            "`speed_range` must be a (low, high) pair with 0 <= low <= high, in pixels "
            f"per frame. Received: speed_range={speed_range!r}"
        )
    if digit_size is None:
        digit_size = default_digit_size(height, width)
    digit_size = validation.positive_int("digit_size", digit_size)
    if digit_size > min(height, width):
        raise ValueError(
            f"`digit_size` ({digit_size}) must fit in the frame {height}x{width}. "
            f"Received: digit_size={digit_size}, frame_size={frame_size!r}"
        )

    images, labels = digit_bank(digits, split, digit_size, mnist_path, download)
    split_index = digit_sources.SPLITS.index(split)
    images = tf.constant(images)
    labels = tf.constant(labels, tf.int32)
    key = tf.constant([seed % 2**63, split_index], tf.int64)

    def render(chunk_index):
        frames, clip_labels, positions = render_moving_digits(
            tf.random.experimental.stateless_fold_in(key, chunk_index),
            images,
            labels,
            chunk_size,
            num_frames,
            (height, width),
            num_digits,
            speed_range,
        )
        frames = tf.cast(frames, tf.float32)[..., None] / 255.0
        if channels == 3:
            frames = tf.repeat(frames, 3, axis=-1)
        if not return_metadata:
            return frames
        return {"frames": frames, "labels": clip_labels, "trajectories": positions}

    if num_clips is None:
        chunks = tf.data.Dataset.counter()
    else:
        chunks = tf.data.Dataset.range(-(-num_clips // chunk_size))
    dataset = chunks.map(render, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.unbatch()
    if num_clips is not None:
        dataset = dataset.take(num_clips)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(num_clips))
    return dataset
