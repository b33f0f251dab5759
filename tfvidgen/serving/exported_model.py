"""An exported SavedModel used through its signatures, with the models' Python API."""

import numpy as np
import tensorflow as tf

from tfvidgen import validation
from tfvidgen.export import saved_model as saved_model_lib
from tfvidgen.families import FAMILY_OF_CLASS
from tfvidgen.families import PREDICTOR_FAMILIES


class ExportedModel:
    """Runs a tfvidgen export through `tf.saved_model.load` signatures.

    Offers the methods of the model that was exported, so the CLI and notebooks
    can use a SavedModel wherever they use a model: `predict_future` for the
    ConvLSTM predictor, `generate` for the GAN, `sample`, `reconstruct`,
    `encode` and `decode` for the VAE, `interpolate` and
    `interpolate_clip` for the frame interpolator. Needs no tfvidgen class to load.

    Args:
        path: a version directory, or a base directory (its latest version).

    Example:

    >>> # tfvidgen export --model saved_models/convlstm_cpu_small --out exports/convlstm_cpu_small
    >>> model = ExportedModel("exports/convlstm_cpu_small/1")
    >>> model.family
    'convlstm'
    >>> model.predict_future(context, 10).shape  # (batch, 10, 64, 64, 1)
    """

    def __init__(self, path):
        self.path = saved_model_lib.latest_version(path)
        self.description = saved_model_lib.read_description(self.path)
        self.family = FAMILY_OF_CLASS.get(self.description["class_name"])
        self.config = self.description["config"]
        self.loaded = tf.saved_model.load(self.path)
        self.signatures = self.loaded.signatures

    def _call(self, signature, **inputs):
        if signature not in self.signatures:
            raise ValueError(
                f"The export {self.path!r} ({self.description['class_name']}) has no {signature!r} signature; "
                f"it has {sorted(self.signatures)}."
            )
        return self.signatures[signature](**inputs)

    @property
    def frame_shape(self):
        if self.family in PREDICTOR_FAMILIES + ("interpolator",):
            return tuple(self.config["frame_shape"])
        return tuple(self.config["clip_shape"][1:])

    @property
    def clip_shape(self):
        return tuple(self.config["clip_shape"])

    @property
    def context_frames(self):
        return self.config["context_frames"]

    def predict_future(self, context, horizon):
        horizon = validation.non_negative_int("horizon", horizon, maximum=validation.MAX_FRAMES)
        outputs = self._call(
            "rollout",
            context=tf.convert_to_tensor(context, tf.float32),
            num_future_frames=tf.constant(horizon, tf.int32),
        )
        return outputs["future_frames"]

    def generate(self, num_samples, seed=0):
        num_samples = validation.positive_int("num_samples", num_samples, maximum=validation.MAX_SAMPLES)
        return self._call("sample", num_samples=tf.constant(num_samples, tf.int32), seed=tf.constant(seed, tf.int32))[
            "clips"
        ]

    sample = generate

    def reconstruct(self, clips):
        return self._call("reconstruct", clips=tf.convert_to_tensor(clips, tf.float32))["reconstruction"]

    def encode(self, clips):
        outputs = self._call("encode", clips=tf.convert_to_tensor(clips, tf.float32))
        return outputs["z_mean"], outputs["z_log_var"]

    def decode(self, latents):
        return self._call("decode", latents=tf.convert_to_tensor(np.asarray(latents, np.float32)))["clips"]

    def interpolate(self, frame_a, frame_b):
        """The middle frames `(batch, H, W, C)` between two `(batch, H, W, C)` batches."""
        outputs = self._call(
            "interpolate",
            frame_a=tf.convert_to_tensor(frame_a, tf.float32),
            frame_b=tf.convert_to_tensor(frame_b, tf.float32),
        )
        return outputs["middle"]

    def interpolate_clip(self, clip, factor=2):
        """`((frames - 1) * factor + 1, H, W, C)`: `factor - 1` frames inserted between neighbours.

        `factor` is bounded here as in the model (`validation.MAX_INTERPOLATION_FACTOR`, the frames by
        `validation.MAX_FRAMES`), so an export whose graph does not check it yet cannot be asked for 2**30.
        """
        factor = validation.positive_int("factor", factor)
        clip = tf.convert_to_tensor(clip, tf.float32)
        if clip.shape.rank:
            validation.interpolated_frames(clip.shape[0], factor)
        outputs = self._call("interpolate_clip", clip=clip, factor=tf.constant(factor, tf.int32))
        return outputs["frames"]
