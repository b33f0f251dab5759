"""The interpolator role (`FrameInterpolator`): two frames in, the frame between them out."""

import keras
import numpy as np
from keras import ops

from tfvidgen import validation
from tfvidgen.models import model_role
from tfvidgen.models import signature_spec
from tfvidgen.models.video_model import RANGE_TOLERANCE
from tfvidgen.models.video_model import VideoModel

FRAME_DIMENSIONS = ("batch", "height", "width", "channels")


def _eager():
    """True outside a traced function, where values can be read (TensorFlow's graphs are traced)."""
    if keras.backend.backend() != "tensorflow":
        return True
    import tensorflow as tf

    return tf.executing_eagerly()


class InterpolatorModel(model_role.ModelRole, VideoModel):
    """Mixin (before `keras.Model`) for models whose `call` maps `(batch, 2, H, W, C)` neighbours to the middle frame.

    A family sets `self.frame_shape` and gets:
    - `interpolate(frame_a, frame_b)`: the middle frames, checked, in batches;
    - `interpolate_clip(clip, factor)`: `factor - 1` frames between
      neighbours by recursive halving;
    - the traceable cores they share with the serving signatures:
      `middle_frames(frame_a, frame_b)`, `with_middles(frames, middles)`
      (the interleaving) and `interpolate_clip_step(clip, factor)`;
    - the role's hooks (`tfvidgen.models.model_role`): the `interpolate` and
      `interpolate_clip` signatures, previews, the CLI's triplets.
    """

    role = "interpolation"
    default_signature = "interpolate"
    numpy_training = False  # Its triplets come from tf.data.

    # === Inference ===

    def _check_frames(self, frames, name):
        frames = validation.float32_tensor(frames)
        if len(frames.shape) != 4 or tuple(frames.shape[1:]) != self.frame_shape:
            raise ValueError(
                f"`{name}` must have shape (batch, {', '.join(map(str, self.frame_shape))}). "
                f"Received shape {tuple(frames.shape)}"
            )
        if _eager() and frames.shape[0]:
            low, high = float(ops.min(frames)), float(ops.max(frames))
            if low < -RANGE_TOLERANCE or high > 1.0 + RANGE_TOLERANCE:
                raise ValueError(
                    f"`{name}` must hold float values in [0, 1] (divide uint8 frames by 255). "
                    f"Received values in [{low:g}, {high:g}]"
                )
        return frames

    def middle_frames(self, frame_a, frame_b):
        """Traceable `interpolate`: float32 middle frames of two `(batch, H, W, C)` batches, unchecked."""
        return ops.cast(self(ops.stack([frame_a, frame_b], axis=1), training=False), "float32")

    def with_middles(self, frames, middles):
        """`frames[0], middles[0], frames[1], ..., frames[-1]`: `(2 * frames - 1, H, W, C)`."""
        # (pairs, 2, H, W, C) -> (2 * pairs, H, W, C): frame, middle, frame, middle, ...
        interleaved = ops.reshape(ops.stack([frames[:-1], middles], axis=1), (-1,) + tuple(self.frame_shape))
        return ops.concatenate([interleaved, frames[-1:]], axis=0)

    def interpolate_clip_step(self, clip, factor):
        """Traceable `interpolate_clip`: `factor` (a power of 2, unchecked) may be a tensor under TensorFlow."""

        def double_frame_rate(frames):
            return self.with_middles(frames, self.middle_frames(frames[:-1], frames[1:]))

        if keras.backend.backend() != "tensorflow":
            frames = clip
            for _ in range(int(factor).bit_length() - 1):
                if frames.shape[0] < 2:
                    break
                frames = double_frame_rate(frames)
            return frames
        import tensorflow as tf

        # The clip grows each round: a while loop whose shape invariant leaves the frame count free.
        _, frames = tf.while_loop(
            lambda rate, frames: (rate < factor) & (tf.shape(frames)[0] > 1),
            lambda rate, frames: (rate * 2, double_frame_rate(frames)),
            (tf.constant(1), clip),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape((None,) + tuple(self.frame_shape))),
        )
        return frames

    def interpolate(self, frame_a, frame_b, batch_size=32):
        """The middle frames between `frame_a[i]` and `frame_b[i]`.

        Args:
            frame_a, frame_b: `(batch, height, width, channels)` in [0, 1].
            batch_size: pairs run through the network at once.

        Returns:
            float32 tensor `(batch, height, width, channels)`.
        """
        frame_a = self._check_frames(frame_a, "frame_a")
        frame_b = self._check_frames(frame_b, "frame_b")
        if frame_a.shape[0] != frame_b.shape[0]:
            raise ValueError(
                f"`frame_a` and `frame_b` must have the same batch size. "
                f"Received: {frame_a.shape[0]} and {frame_b.shape[0]}"
            )
        batch_size = validation.positive_int("batch_size", batch_size)
        neighbours = ops.stack([frame_a, frame_b], axis=1)
        if neighbours.shape[0] == 0:
            return ops.zeros((0,) + self.frame_shape, "float32")
        chunks = [
            self(neighbours[start : start + batch_size], training=False)
            for start in range(0, neighbours.shape[0], batch_size)
        ]
        return ops.concatenate(chunks, axis=0)

    def interpolate_clip(self, clip, factor=2, batch_size=32):
        """Inserts `factor - 1` frames between each pair of neighbours by recursive halving.

        Each round puts a predicted middle between every pair of neighbouring
        frames, doubling the frame rate; `log2(factor)` rounds.

        Args:
            clip: `(frames, height, width, channels)` in [0, 1], frames >= 1.
            factor: a power of 2 (1 returns the clip), at most
                `tfvidgen.validation.MAX_INTERPOLATION_FACTOR` (64).
            batch_size: pairs run through the network at once.

        Returns:
            float32 tensor `((frames - 1) * factor + 1, height, width,
            channels)`; the input frames are at positions 0, factor, 2 * factor...

        Raises:
            ValueError: for a factor that is not a power of 2, above
                `MAX_INTERPOLATION_FACTOR`, or making more than
                `tfvidgen.validation.MAX_FRAMES` frames.
        """
        clip = validation.float32_tensor(clip)
        if len(clip.shape) != 4 or clip.shape[0] == 0:
            raise ValueError(
                f"`clip` must have shape (frames >= 1, {', '.join(map(str, self.frame_shape))}). "
                f"Received shape {tuple(clip.shape)}"
            )
        factor = validation.positive_int("factor", factor)
        if factor & (factor - 1):
            raise ValueError(f"`factor` must be a power of 2 (1, 2, 4, 8, ...). Received: factor={factor}")
        validation.interpolated_frames(clip.shape[0], factor)  # Before any work: 2**20 used to run out of memory.
        frames = self._check_frames(clip, "clip")
        for _ in range(factor.bit_length() - 1):
            if frames.shape[0] < 2:
                break
            # Eager, in batches of `batch_size` pairs; `interpolate_clip_step` is the same in one traced loop.
            frames = self.with_middles(frames, self.interpolate(frames[:-1], frames[1:], batch_size=batch_size))
        return frames

    # === Role hooks: serving, previews, the CLI ===

    def serving_signatures(self):
        """`interpolate`: `(frame_a, frame_b)` -> `{"middle"}`; `interpolate_clip`: `(clip, factor)` -> `{"frames"}`,
        `factor` at most `validation.MAX_INTERPOLATION_FACTOR` and the frames at most `validation.MAX_FRAMES`.

        Batch and clip length are dynamic; height, width and channels are this model's.
        """
        frame_shape = (None,) + tuple(self.frame_shape)

        def same_batch(frame_a, frame_b):
            message = "`frame_a` and `frame_b` must have the same batch size"
            return [(ops.shape(frame_a)[0], "==", ops.shape(frame_b)[0], message)]

        def clip_checks(clip, factor):
            output_frames = (ops.cast(ops.shape(clip)[0], "int64") - 1) * ops.cast(factor, "int64") + 1
            too_many = f"`factor` would make (frames - 1) * factor + 1 frames, more than {validation.MAX_FRAMES}"
            return [
                (ops.bitwise_and(factor, factor - 1), "==", 0, "`factor` must be a power of 2"),
                (ops.shape(clip)[0], ">", 0, "`clip` needs at least 1 frame"),
                (output_frames, "<=", validation.MAX_FRAMES, too_many),
            ]

        rng = np.random.default_rng(0)
        signatures = {
            "interpolate": signature_spec.Signature(
                lambda frame_a, frame_b: {"middle": self.middle_frames(frame_a, frame_b)},
                [
                    signature_spec.TensorInput("frame_a", frame_shape, dimensions=FRAME_DIMENSIONS),
                    signature_spec.TensorInput("frame_b", frame_shape, dimensions=FRAME_DIMENSIONS),
                ],
                {name: rng.random((2,) + tuple(self.frame_shape)).astype("float32") for name in ("frame_a", "frame_b")},
                same_batch,
            ),
            "interpolate_clip": signature_spec.Signature(
                lambda clip, factor: {"frames": self.interpolate_clip_step(clip, factor)},
                [
                    signature_spec.TensorInput("clip", frame_shape, dimensions=("frames",) + FRAME_DIMENSIONS[1:]),
                    signature_spec.ScalarInput("factor", minimum=1, maximum=validation.MAX_INTERPOLATION_FACTOR),
                ],
                {"clip": rng.random((3,) + tuple(self.frame_shape)).astype("float32"), "factor": np.array(4, np.int32)},
                clip_checks,
            ),
        }
        return {**signatures, **self.extra_signatures()}

    def previews(self, batch, seed=0):
        """Frames t, t + 1, t + 2: the truth, the model's middle, and linear blending's."""
        neighbours, middle, _ = keras.utils.unpack_x_y_sample_weight(batch)
        neighbours = validation.float32_tensor(neighbours)
        frame_a, frame_b = neighbours[:, 0], neighbours[:, 1]

        def triplet(between):
            return ops.stack([frame_a, validation.float32_tensor(between), frame_b], axis=1)

        previews = {
            "prediction": triplet(self.interpolate(frame_a, frame_b)),
            "linear_blend": triplet(0.5 * (frame_a + frame_b)),
        }
        if middle is not None:
            previews = {"truth": triplet(middle), **previews}
        return previews

    def training_clip_shape(self, training):
        """Clips of the preset's `num_frames`, cut into triplets by `training_examples`."""
        return (training["num_frames"],) + tuple(self.frame_shape)

    def training_examples(self, clips, training):
        """`(neighbours, middle)` triplets `gap` frames apart (the preset's `gap`, default 1), shuffled apart."""
        from tfvidgen import data as data_lib

        # A clip gives several triplets in a row: shuffle them apart, even from an endless source.
        return data_lib.interpolation_triplets(clips, training.get("gap", 1)), 256
