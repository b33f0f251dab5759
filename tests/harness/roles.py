"""Every family of `tfvidgen.models.FAMILIES` by role, and what each role needs of a tiny model.

A family joins the harness by being registered (one line in `tfvidgen/families.py`, its class in
`tfvidgen.models.FAMILIES`) with a `"tiny"` preset (4 frames of 16x16x1 clips, or frames of 16x16x1) and
subclassing one role class; the role tests then run it on every backend. Nothing here names a family:
what differs by role is below, keyed by the role class, and a family's own extras are found by capability
(`fit_latent_prior`, an int `seed` constructor argument).

Role interface the tests rely on (the role classes give it; a family overrides what is its own):
- frame predictor (`FramePredictor`): `fit` on whole clips `(batch, frames, H, W, C)`,
  `predict_future(context, horizon)`, `context_frames`, `frame_shape`;
- generative (`GenerativeModel`): `fit` on whole clips, `sample(n, seed)`, `decode(latents)`,
  `latent_dim`, `interpolate_latents(start, end, steps)`;
- interpolator (`InterpolatorModel`): `fit` on `(neighbours (batch, 2, H, W, C), middle (batch, H, W, C))`,
  `interpolate(frame_a, frame_b)`, `interpolate_clip(clip, factor)`, `frame_shape`.
"""

import keras
import numpy as np

from tfvidgen import models

ROLES = ("predictor", "generative", "interpolator")
# 16 clips of 4 frames of 16x16x1 in [0, 1], the same on every backend.
CLIPS = np.random.default_rng(0).random((16, 4, 16, 16, 1)).astype("float32")


def _moving_squares(num_clips=16, num_frames=4, size=16, side=5, seed=0):
    """Clips of a bright square moving 1-2 pixels a frame: the middle of two frames is learnable (noise's is not)."""
    rng = np.random.default_rng(seed)
    clips = np.zeros((num_clips, num_frames, size, size, 1), "float32")
    for clip in clips:
        start = rng.integers(4, size - side - 4, 2)
        velocity = rng.choice([-2, -1, 1, 2], 2)
        for index, frame in enumerate(clip):
            top, left = start + index * velocity
            frame[top : top + side, left : left + side] = 1.0
    return clips


SQUARES = _moving_squares()


def role_classes():
    """`{role: role class}`; the interpolator's role class is `InterpolatorModel` (or its one family's class)."""
    from tfvidgen.models.frame_predictor import FramePredictor
    from tfvidgen.models.generative_model import GenerativeModel

    try:
        from tfvidgen.models.interpolator_model import InterpolatorModel
    except ImportError:  # Before the interpolator had a role class of its own.
        from tfvidgen.models import FrameInterpolator as InterpolatorModel
    return {"predictor": FramePredictor, "generative": GenerativeModel, "interpolator": InterpolatorModel}


def role_of(model_or_class):
    """The role name of a model or model class, by the role class it subclasses."""
    cls = model_or_class if isinstance(model_or_class, type) else type(model_or_class)
    for role, role_class in role_classes().items():
        if issubclass(cls, role_class):
            return role
    raise ValueError(
        f"{cls.__name__} subclasses no role class ({', '.join(c.__name__ for c in role_classes().values())}): "
        "the harness cannot test it."
    )


def families(role=None):
    """Family names of `tfvidgen.models.FAMILIES` with the given role (all of them for None), in registry order."""
    return [family for family, cls in models.FAMILIES.items() if role is None or role_of(cls) == role]


def tiny(family, seed=1):
    """The family's tiny preset, built after `keras.utils.set_random_seed(seed)`, with `seed=seed` if it takes one."""
    cls = models.FAMILIES[family]
    keras.utils.set_random_seed(seed)
    model = cls.from_preset("tiny")
    if "seed" in model.get_config():  # Families that draw random numbers in training take a seed.
        keras.utils.set_random_seed(seed)
        model = cls.from_preset("tiny", seed=seed)
    return model


def training_data(model, clips=None):
    """`(x, y)` NumPy arrays the model's role trains on: whole clips (y None), or an interpolator's triplets.

    The clips default to `CLIPS`, and for an interpolator to `SQUARES`.
    """
    if role_of(model) == "interpolator":
        clips = SQUARES if clips is None else clips
        # Frames t and t + 2 around the middle t + 1, as tfvidgen.data.interpolation_triplets makes them.
        neighbours = np.stack([clips[:, :-2], clips[:, 2:]], axis=2).reshape((-1, 2) + clips.shape[2:])
        return neighbours, clips[:, 1:-1].reshape((-1,) + clips.shape[2:])
    return (CLIPS if clips is None else clips), None


def fit(model, epochs=3, batch_size=8, clips=None):
    """Compiles with the family's defaults and fits on the role's training data; returns the history dict."""
    model.compile()
    x, y = training_data(model, clips)
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=False).history


def trained(family, epochs=3, seed=1):
    """`(model, history)`: the tiny model fitted `epochs` epochs on a fixed seed."""
    model = tiny(family, seed)
    keras.utils.set_random_seed(seed)
    return model, fit(model, epochs)


def loss_key(history):
    """The loss that must fall: `loss`, or the first `*_loss` (the GAN's discriminator loss, `d_loss`)."""
    if "loss" in history:
        return "loss"
    return next(key for key in history if key.endswith("loss"))


def output(model):
    """A deterministic output of the model's role: a rollout, seeded samples or middle frames."""
    role = role_of(model)
    if role == "predictor":
        return np.asarray(model.predict_future(CLIPS[:2, :2], 3))
    if role == "generative":
        return np.asarray(model.sample(2, seed=3))
    return np.asarray(model.interpolate(SQUARES[:2, 0], SQUARES[:2, 2]))


def output_shape(model):
    """`output(model)`'s shape: 3 predicted frames, 2 clips, or 2 middle frames (tiny presets)."""
    return {
        "predictor": (2, 3, 16, 16, 1),
        "generative": (2, 4, 16, 16, 1),
        "interpolator": (2, 16, 16, 1),
    }[role_of(model)]


def backend_free_output(model):
    """An output drawing no random numbers, equal across backends for equal weights (NumPy latents to decode)."""
    if role_of(model) == "generative":
        latents = np.random.default_rng(5).normal(size=(2, model.latent_dim)).astype("float32")
        return np.asarray(model.decode(latents))
    return output(model)


def optimizer_steps(model):
    """The iteration count of each of the model's optimizers (two for the GAN)."""
    return [
        int(keras.ops.convert_to_numpy(optimizer.iterations.value))
        for optimizer, _ in model._optimizers_and_variables()
    ]


def interpolate_latents(model, start, end, steps):
    """`interpolate_latents`, or under its former name `interpolate` (before the rename)."""
    method = getattr(model, "interpolate_latents", None) or model.interpolate
    return method(start, end, steps=steps)
