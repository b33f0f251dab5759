"""An exported SavedModel used through its signatures, with the models' Python API."""

import numpy as np
import tensorflow as tf

from tfvidgen import validation
from tfvidgen.export import saved_model as saved_model_lib
from tfvidgen.families import FAMILY_OF_CLASS
from tfvidgen.families import FAMILY_ROLES
from tfvidgen import deprecation


class ExportedModel:
    """Runs a tfvidgen export through `tf.saved_model.load` signatures.

    Offers the verbs of the model that was exported, each calling the
    signature of the same name, so the CLI and notebooks can use a SavedModel
    wherever they use a model: `predict_future` (the `rollout` signature) and
    `next_frames` (`predict`) for a frame predictor, `sample` and `decode` for
    a generative model (and the VAE's `encode` and `reconstruct`),
    `interpolate` and `interpolate_clip` for the frame interpolator. A verb
    whose signature the export lacks raises `ValueError` naming the ones it
    has. Extra keyword arguments reach the signature as further inputs (a
    family that declares more, e.g. a sampler's `steps`). Needs no tfvidgen
    class to load.

    Args:
        path: a version directory, or a base directory (its latest version).

    Example:

    >>> # tfvidgen export --model saved_models/convlstm_cpu_small --out exports/convlstm_cpu_small
    >>> model = ExportedModel("exports/convlstm_cpu_small/1")
    >>> model.family, model.role
    ('convlstm', 'prediction')
    >>> model.predict_future(context, 10).shape  # (batch, 10, 64, 64, 1)
    """

    def __init__(self, path):
        self.path = saved_model_lib.latest_version(path)
        self.description = saved_model_lib.read_description(self.path)
        # Exports before the roles recorded only the class: the registry names its family and role.
        self.family = self.description.get("family") or FAMILY_OF_CLASS.get(self.description["class_name"])
        self.role = self.description.get("role") or FAMILY_ROLES.get(self.family)
        self.config = self.description["config"]
        self.loaded = tf.saved_model.load(self.path)
        self.signatures = self.loaded.signatures

    def _call(self, signature, **inputs):
        if signature not in self.signatures:
            raise ValueError(
                f"The export {self.path!r} ({self.description['class_name']}) has no {signature!r} signature; "
                f"it has {sorted(self.signatures)}."
            )
        # Inputs the model declared optional (tfvidgen.json's "defaults"), where the caller gave none.
        defaults = self.description.get("defaults", {}).get(signature.removesuffix("_uint8"), {})
        specs = self.signatures[signature].structured_input_signature[1]
        missing = {
            name: tf.constant(value, specs[name].dtype) for name, value in defaults.items() if name not in inputs
        }
        return self.signatures[signature](**inputs, **missing)

    @staticmethod
    def _extra(inputs):
        return {name: tf.convert_to_tensor(value) for name, value in inputs.items()}

    @property
    def frame_shape(self):
        if "frame_shape" in self.config:
            return tuple(self.config["frame_shape"])
        return tuple(self.config["clip_shape"][1:])

    @property
    def clip_shape(self):
        return tuple(self.config["clip_shape"])

    @property
    def context_frames(self):
        return self.config["context_frames"]

    # === Predictors ===

    def predict_future(self, context, horizon, **inputs):
        """`horizon` frames after `context` (the `rollout` signature)."""
        horizon = validation.non_negative_int("horizon", horizon, maximum=validation.MAX_FRAMES)
        outputs = self._call(
            "rollout",
            context=tf.convert_to_tensor(context, tf.float32),
            num_future_frames=tf.constant(horizon, tf.int32),
            **self._extra(inputs),
        )
        return outputs["future_frames"]

    def next_frames(self, frames):
        """The model's one-pass prediction on `frames` (the `predict` signature)."""
        return self._call("predict", frames=tf.convert_to_tensor(frames, tf.float32))["next_frames"]

    # === Generative models ===

    def sample(self, num_samples, seed=0, **inputs):
        """`num_samples` clips, the same for the same `seed`."""
        num_samples = validation.positive_int("num_samples", num_samples, maximum=validation.MAX_SAMPLES)
        return self._call(
            "sample",
            num_samples=tf.constant(num_samples, tf.int32),
            seed=tf.constant(seed, tf.int32),
            **self._extra(inputs),
        )["clips"]

    def generate(self, num_samples, seed=0):
        """Deprecated: `sample`."""
        deprecation.deprecated("generate", "sample", "ExportedModel")
        return self.sample(num_samples, seed)

    def decode(self, latents):
        """Clips from `(batch, latent_dim)` latents (the `decode` signature; `generate` in older GAN exports)."""
        signature = "decode" if "decode" in self.signatures or "generate" not in self.signatures else "generate"
        return self._call(signature, latents=tf.convert_to_tensor(np.asarray(latents, np.float32)))["clips"]

    def reconstruct(self, clips):
        return self._call("reconstruct", clips=tf.convert_to_tensor(clips, tf.float32))["reconstruction"]

    def encode(self, clips):
        outputs = self._call("encode", clips=tf.convert_to_tensor(clips, tf.float32))
        return outputs["z_mean"], outputs["z_log_var"]

    def evaluation_extras(self, clips, batch_size):
        """Reconstruction PSNR/SSIM where the export reconstructs (a VAE's); `{}` otherwise."""
        if "reconstruct" not in self.signatures:
            return {}
        from tfvidgen.metrics import generative

        return generative.reconstruction_scores(self, clips, batch_size)

    # === Interpolators ===

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
