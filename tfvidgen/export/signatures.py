"""Serving signatures of each model family: `{name: Endpoint}` for `tfvidgen.export`.

They live here, not in the model classes, so that the models import no
TensorFlow and run on any Keras backend; exporting is TensorFlow's job (a
model trained on JAX loads under TensorFlow and exports from there).
"""

import numpy as np
import tensorflow as tf

from tfvidgen import replica_random
from tfvidgen import validation
from tfvidgen.export import endpoints

FRAME_DIMENSIONS = ("batch", "height", "width", "channels")


def for_model(model):
    """The endpoints of a tfvidgen model, chosen by its `family`."""
    family = getattr(model, "family", None)
    if family not in FAMILY_ENDPOINTS:
        raise ValueError(
            f"{type(model).__name__} has no serving signatures: `family` must be one of {sorted(FAMILY_ENDPOINTS)}. "
            f"Received: family={family!r}"
        )
    return FAMILY_ENDPOINTS[family](model)


def convlstm_endpoints(model):
    """`serving_default`/`predict`: frames -> next frames; `rollout`: (context, n) -> n future frames.

    Batch and time are dynamic; height, width and channels are this model's.
    """
    video_shape = (None, None) + model.frame_shape

    def predict(frames):
        return {"next_frames": model(endpoints.checked(frames, video_shape, "frames"), training=False)}

    context = _example_context(model)
    predict_endpoint = endpoints.Endpoint(predict, [endpoints.video_spec(video_shape, "frames")], {"frames": context})
    return {"serving_default": predict_endpoint, "predict": predict_endpoint, "rollout": _rollout_endpoint(model)}


def simvp_endpoints(model):
    """`serving_default`/`predict`: context -> the next `future_frames` frames; `rollout`: (context, n) -> n frames.

    Batch and context length are dynamic (the last `context_frames` frames are
    used, a shorter context padded in front); height, width and channels are
    this model's.
    """
    video_shape = (None, None) + model.frame_shape

    def predict(context):
        context = endpoints.checked(context, video_shape, "context")
        with tf.control_dependencies([_has_frames(context)]):
            return {"future_frames": model(context, training=False)}

    predict_endpoint = endpoints.Endpoint(
        predict, [endpoints.video_spec(video_shape, "context")], {"context": _example_context(model)}
    )
    return {"serving_default": predict_endpoint, "predict": predict_endpoint, "rollout": _rollout_endpoint(model)}


def _example_context(model):
    return np.random.default_rng(0).random((1, model.context_frames) + model.frame_shape).astype("float32")


def _has_frames(context):
    return tf.debugging.assert_positive(tf.shape(context)[1], message="`context` needs at least 1 frame")


def _rollout_endpoint(model):
    """A predictor's `(context, num_future_frames)` -> `{"future_frames"}`, any horizon up to `MAX_FRAMES`."""
    video_shape = (None, None) + model.frame_shape

    def rollout(context, num_future_frames):
        context = endpoints.checked(context, video_shape, "context")
        num_future_frames = endpoints.non_negative(
            endpoints.at_most(
                endpoints.scalar(num_future_frames, "num_future_frames"), validation.MAX_FRAMES, "num_future_frames"
            ),
            "num_future_frames",
        )
        with tf.control_dependencies([_has_frames(context)]):
            return {"future_frames": model.rollout(context, num_future_frames)}

    return endpoints.Endpoint(
        rollout,
        [endpoints.video_spec(video_shape, "context"), endpoints.scalar_spec("num_future_frames")],
        {"context": _example_context(model), "num_future_frames": np.array(10, np.int32)},
    )


def dcgan_endpoints(model):
    """`serving_default`/`generate`: latents -> clips; `sample`: (num_samples, seed) -> clips."""
    generate_endpoint = _decode_endpoint(model, np.random.default_rng(0))
    return {"serving_default": generate_endpoint, "generate": generate_endpoint, "sample": _sample_endpoint(model)}


def vae_endpoints(model):
    """`serving_default`/`reconstruct`, `encode`, `decode` and `sample` signatures."""
    clip_shape = (None,) + model.clip_shape

    def reconstruct(clips):
        z_mean, z_log_var = model.encoder(endpoints.checked(clips, clip_shape, "clips"), training=False)
        return {"reconstruction": model.decoder(z_mean, training=False), "z_mean": z_mean, "z_log_var": z_log_var}

    def encode(clips):
        z_mean, z_log_var = model.encoder(endpoints.checked(clips, clip_shape, "clips"), training=False)
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    rng = np.random.default_rng(0)
    clips_example = {"clips": rng.random((1,) + model.clip_shape).astype("float32")}  # Warm-up requests stay small.
    clips_spec = [endpoints.video_spec(clip_shape, "clips")]
    reconstruct_endpoint = endpoints.Endpoint(reconstruct, clips_spec, clips_example)
    return {
        "serving_default": reconstruct_endpoint,
        "reconstruct": reconstruct_endpoint,
        "encode": endpoints.Endpoint(encode, clips_spec, clips_example),
        "decode": _decode_endpoint(model, rng),
        "sample": _sample_endpoint(model),
    }


def _decode_endpoint(model, rng):
    """A generative model's latents -> `{"clips"}` (the GAN's `generate`, the VAE's `decode`); example from `rng`."""
    latent_shape = (None, model.latent_dim)

    def decode(latents):
        latents = endpoints.checked(latents, latent_shape, "latents", ("batch", "latent_dim"))
        return {"clips": model.latent_decoder()(latents, training=False)}

    example = {"latents": rng.normal(size=(2, model.latent_dim)).astype("float32")}
    return endpoints.Endpoint(decode, [tf.TensorSpec(latent_shape, tf.float32, name="latents")], example)


def _sample_endpoint(model):
    """A generative model's `(num_samples, seed)` -> `{"clips"}`, the latents drawn in the graph from the seed.

    The noise passes through `model.prior_latents`, so a VAE's fitted prior serves as `sample()` uses it.
    """

    def sample(num_samples, seed):
        num_samples = endpoints.positive(endpoints.scalar(num_samples, "num_samples"), "num_samples")
        num_samples = endpoints.at_most(num_samples, validation.MAX_SAMPLES, "num_samples")
        noise = replica_random.seeded_normal(num_samples, model.latent_dim, endpoints.scalar(seed, "seed"))
        latents = model.prior_latents(noise)
        return {"clips": model.latent_decoder()(latents, training=False)}

    return endpoints.Endpoint(
        sample,
        [endpoints.scalar_spec("num_samples"), endpoints.scalar_spec("seed")],
        {"num_samples": np.array(2, np.int32), "seed": np.array(0, np.int32)},
    )


def interpolator_endpoints(model):
    """`serving_default`/`interpolate`: `(frame_a, frame_b)` -> `{"middle"}`;
    `interpolate_clip`: `(clip, factor)` -> `{"frames"}`, as `interpolate_clip`, `factor` at most
    `validation.MAX_INTERPOLATION_FACTOR` and the frames at most `validation.MAX_FRAMES`.

    Batch and clip length are dynamic; height, width and channels are this model's.
    """
    frame_shape = (None,) + model.frame_shape

    def interpolate(frame_a, frame_b):
        frame_a = endpoints.checked(frame_a, frame_shape, "frame_a", FRAME_DIMENSIONS)
        frame_b = endpoints.checked(frame_b, frame_shape, "frame_b", FRAME_DIMENSIONS)
        same_batch = tf.debugging.assert_equal(
            tf.shape(frame_a)[0],
            tf.shape(frame_b)[0],
            message="`frame_a` and `frame_b` must have the same batch size",
        )
        with tf.control_dependencies([same_batch]):
            neighbours = tf.stack([frame_a, frame_b], axis=1)
        return {"middle": tf.cast(model(neighbours, training=False), tf.float32)}

    def interpolate_clip(clip, factor):
        clip = endpoints.checked(clip, frame_shape, "clip", ("frames",) + FRAME_DIMENSIONS[1:])
        factor = endpoints.positive(endpoints.scalar(factor, "factor"), "factor")
        # Bounded before the loop allocates anything: 2**30 used to run for minutes into ResourceExhaustedError.
        factor = endpoints.at_most(factor, validation.MAX_INTERPOLATION_FACTOR, "factor")
        output_frames = (tf.cast(tf.shape(clip)[0], tf.int64) - 1) * tf.cast(factor, tf.int64) + 1
        checks = [
            tf.debugging.assert_equal(
                tf.bitwise.bitwise_and(factor, factor - 1), 0, message="`factor` must be a power of 2"
            ),
            tf.debugging.assert_positive(tf.shape(clip)[0], message="`clip` needs at least 1 frame"),
            tf.debugging.assert_less_equal(
                output_frames,
                tf.constant(validation.MAX_FRAMES, tf.int64),
                message=f"`factor` would make (frames - 1) * factor + 1 frames, more than {validation.MAX_FRAMES}",
            ),
        ]
        with tf.control_dependencies(checks):
            clip, factor = tf.identity(clip), tf.identity(factor)

        def double_frame_rate(rate, frames):
            middles = tf.cast(model(tf.stack([frames[:-1], frames[1:]], axis=1), training=False), tf.float32)
            interleaved = tf.reshape(tf.stack([frames[:-1], middles], axis=1), (-1,) + model.frame_shape)
            return rate * 2, tf.concat([interleaved, frames[-1:]], axis=0)

        _, frames = tf.while_loop(
            lambda rate, frames: (rate < factor) & (tf.shape(frames)[0] > 1),
            double_frame_rate,
            (tf.constant(1), clip),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape(frame_shape)),
        )
        return {"frames": frames}

    rng = np.random.default_rng(0)
    endpoint = endpoints.Endpoint(
        interpolate,
        [endpoints.video_spec(frame_shape, "frame_a"), endpoints.video_spec(frame_shape, "frame_b")],
        {name: rng.random((2,) + model.frame_shape).astype("float32") for name in ("frame_a", "frame_b")},
    )
    clip_endpoint = endpoints.Endpoint(
        interpolate_clip,
        [endpoints.video_spec(frame_shape, "clip"), endpoints.scalar_spec("factor")],
        {"clip": rng.random((3,) + model.frame_shape).astype("float32"), "factor": np.array(4, np.int32)},
    )
    return {"serving_default": endpoint, "interpolate": endpoint, "interpolate_clip": clip_endpoint}


FAMILY_ENDPOINTS = {
    "convlstm": convlstm_endpoints,
    "simvp": simvp_endpoints,
    "dcgan": dcgan_endpoints,
    "vae": vae_endpoints,
    "interpolator": interpolator_endpoints,
}
