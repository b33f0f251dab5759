"""Moving MNIST rendered on the accelerator with `keras.ops`: a training step never waits for NumPy.

`render_digits` is `moving_mnist.render_moving_digits` written once more in
`keras.ops` (the bounces and the one-hot placement are the same functions,
`moving_mnist.bounce` and `moving_mnist.place_digits`); only the random draws
differ, so the clips have the NumPy and tf.data renderers' distribution, not
their exact pixels. `DeviceMovingMNIST` feeds `fit` from it: each batch is one
compiled call (`jax.jit` on JAX, `tf.function` on TensorFlow) whose output
stays on the device, and Keras' JAX trainer passes device arrays from a
`PyDataset` through untouched (`jax.device_put` of an array already there).
"""

import importlib
import math

import keras

from tfvidgen import validation
from tfvidgen.data import digits as digit_sources

# The module: `tfvidgen.data.moving_mnist` is the dataset function once the package is imported.
moving_mnist_lib = importlib.import_module("tfvidgen.data.moving_mnist")


def _seeds(seed, count):
    """`count` independent seeds for `keras.random` from `seed` (an int, or a JAX key array under JAX's `jit`)."""
    if keras.backend.backend() == "jax":
        import jax

        key = jax.random.PRNGKey(seed) if isinstance(seed, int) else seed
        return list(jax.random.split(key, count))
    # keras.random takes int seeds or a SeedGenerator elsewhere; drawn in order, the same seed gives the same draws.
    generator = keras.random.SeedGenerator(seed)
    return [generator] * count


def render_digits(seed, images, labels, num_clips, num_frames, frame_size, num_digits=2, speed_range=(2.0, 5.0)):
    """Renders a batch of Moving MNIST clips with `keras.ops` on the backend's device.

    Args:
        seed: an int, or under JAX a `jax.random` key (uint32 `(2,)`), which
            may be traced inside `jax.jit`: the same seed gives the same clips.
        images: uint8 `(N, S, S)` digit images (white on black).
        labels: int32 `(N,)` digit labels.
        num_clips: number of clips to render.
        num_frames: frames per clip.
        frame_size: `(height, width)` of a frame, each at least `S`.
        num_digits: digits per clip.
        speed_range: `(low, high)` speed in pixels per frame.

    Returns:
        `(clips, clip_labels, positions)` as backend tensors: uint8
        `(num_clips, num_frames, height, width)`, int32 `(num_clips,
        num_digits)` and int32 `(num_clips, num_frames, num_digits, 2)`
        top-left `(y, x)` positions.

    Example:

    >>> images, labels = moving_mnist_lib.digit_bank("glyphs", "train", 14)
    >>> clips, _, _ = render_digits(0, images, labels, 2, 4, (32, 32))
    >>> tuple(clips.shape)
    (2, 4, 32, 32)
    """
    height, width = frame_size
    images = keras.ops.convert_to_tensor(images, "uint8")
    digit = images.shape[1]
    shape = (num_clips, num_digits)
    choice_seed, start_seed, angle_seed, speed_seed = _seeds(seed, 4)
    choice = keras.random.randint(shape, 0, images.shape[0], dtype="int32", seed=choice_seed)
    limits = keras.ops.convert_to_tensor([height - digit, width - digit], "float32")
    start = keras.random.uniform(shape + (2,), seed=start_seed) * limits
    angle = keras.random.uniform(shape, 0.0, 2.0 * math.pi, seed=angle_seed)
    speed = keras.random.uniform(shape, speed_range[0], speed_range[1], seed=speed_seed)
    positions = moving_mnist_lib.bounce(start, angle, speed, num_frames, limits, keras.ops)
    clips = moving_mnist_lib.place_digits(images, choice, positions, frame_size, keras.ops)
    clip_labels = keras.ops.take(keras.ops.convert_to_tensor(labels, "int32"), choice, axis=0)
    return clips, clip_labels, positions


class DeviceMovingMNIST(keras.utils.PyDataset):
    """`steps` batches per epoch of Moving MNIST rendered on the device: `(clips,)`, float32 `(batch, frames, H, W, C)`.

    With `labels=True`, `(clips, labels)`: the digits of each clip, int32 `(batch, num_digits)`, rendered in the same
    call (a class-conditional model's `y`).

    The endless counterpart of `ClipBatches` over `numpy_clips("moving_mnist")`
    (same digit banks, splits, shapes and [0, 1] value range) without NumPy in the
    loop: batch `i` of epoch `e` is rendered from the key `(seed, split, e, i)`
    by one compiled call, so it is the same in every run and on every backend
    run again, and it never leaves the device.

    Args:
        batch_size: clips per batch.
        steps: batches per epoch.
        num_frames: frames per clip.
        frame_size: frame `(height, width)`, or an int for square frames.
        channels: 1, or 3 (the gray frames repeated as RGB).
        digits: `"glyphs"` (built in) or `"mnist"` (Keras' cached MNIST).
        split: `"train"`, `"validation"` or `"test"` (disjoint digit banks and streams).
        seed: int seed.
        labels: also give each clip's digit labels.

    Example:

    >>> batches = DeviceMovingMNIST(batch_size=2, steps=3, num_frames=4, frame_size=16)
    >>> len(batches), tuple(batches[0][0].shape)
    (3, (2, 4, 16, 16, 1))
    """

    def __init__(
        self,
        batch_size,
        steps,
        num_frames,
        frame_size,
        channels=1,
        digits="glyphs",
        split="train",
        seed=0,
        labels=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.labels = bool(labels)
        self.batch_size = validation.positive_int("batch_size", batch_size)
        self.steps = validation.positive_int("steps", steps)
        self.num_frames = validation.positive_int("num_frames", num_frames)
        self.frame_size = validation.frame_size("frame_size", frame_size)
        self.channels = validation.channels("channels", channels)
        validation.one_of("digits", digits, digit_sources.DIGIT_SOURCES)
        validation.one_of("split", split, digit_sources.SPLITS)
        if not isinstance(seed, int):
            raise TypeError(f"`seed` must be an int. Received: seed={seed!r}")
        self.seed, self.split, self.epoch = seed, split, 0
        height, width = self.frame_size
        images, labels = moving_mnist_lib.digit_bank(digits, split, moving_mnist_lib.default_digit_size(height, width))
        self._render = self._compile(images, labels, digit_sources.SPLITS.index(split))

    def _compile(self, images, labels, split_index):
        """`(epoch, index) -> batch`, one compiled call on the backend's device."""

        def frames(seed):
            clips, clip_labels, _ = render_digits(
                seed,
                images,
                labels,
                self.batch_size,
                self.num_frames,
                self.frame_size,
                moving_mnist_lib.NUM_DIGITS,
                moving_mnist_lib.SPEED_RANGE,
            )
            batch = _as_frames(clips, self.channels, keras.ops)
            return (batch, clip_labels) if self.labels else batch

        backend = keras.backend.backend()
        if backend == "jax":
            import jax

            base = jax.random.fold_in(jax.random.PRNGKey(self.seed), split_index)

            @jax.jit
            def render(epoch, index):
                return frames(jax.random.fold_in(jax.random.fold_in(base, epoch), index))

            return render
        if backend == "tensorflow":
            import tensorflow as tf

            # keras.random takes no tensor seed on TensorFlow: the tf.data renderer's stateless draws, compiled once.
            key = tf.constant([self.seed % 2**63, split_index], tf.int64)

            @tf.function(reduce_retracing=True)
            def render_tf(epoch, index):
                seed = tf.random.experimental.stateless_fold_in(
                    tf.random.experimental.stateless_fold_in(key, epoch), index
                )
                clips, clip_labels, _ = moving_mnist_lib.render_moving_digits(
                    seed,
                    images,
                    labels,
                    self.batch_size,
                    self.num_frames,
                    self.frame_size,
                    moving_mnist_lib.NUM_DIGITS,
                    moving_mnist_lib.SPEED_RANGE,
                )
                batch = _as_frames(clips, self.channels, tf)
                return (batch, clip_labels) if self.labels else batch

            return lambda epoch, index: render_tf(tf.constant(epoch, tf.int64), tf.constant(index, tf.int64))
        # Other backends: eager keras.ops, an int seed per batch.
        return lambda epoch, index: frames(hash((self.seed, split_index, epoch, index)) % 2**31)

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        batch = self._render(self.epoch, index)
        # A 1-tuple: Keras takes a bare batch only as a NumPy array.
        return tuple(batch) if self.labels else (batch,)

    def on_epoch_end(self):
        self.epoch += 1


def _as_frames(clips, channels, ops):
    """uint8 `(batch, frames, H, W)` -> float32 `(..., channels)` in [0, 1], with `ops` (keras.ops or tf)."""
    frames = ops.cast(clips, "float32")[..., None] / 255.0
    return ops.repeat(frames, 3, axis=-1) if channels == 3 else frames
