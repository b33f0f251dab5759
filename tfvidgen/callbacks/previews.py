"""Training previews of each model family: named batches of clips that show the model at work.

`VideoSamples` writes them as GIFs and PNGs. They live here, not in the model
classes, and use only `keras.ops`, so they run on every backend.
"""

import keras
import numpy as np
from keras import ops

from tfvidgen import validation


def for_model(model, batch, seed=0):
    """`{name: (n, frames, height, width, channels)}` previews of `model` on `batch`."""
    family = getattr(model, "family", None)
    if family not in FAMILY_PREVIEWS:
        raise ValueError(
            f"{type(model).__name__} has no previews: `family` must be one of {sorted(FAMILY_PREVIEWS)}. "
            f"Received: family={family!r}"
        )
    return FAMILY_PREVIEWS[family](model, batch, seed)


def predictor_previews(model, batch, seed=0):
    """A predictor's (ConvLSTM, SimVP): the true clip and, below it, the context followed by the rollout."""
    x, y, _ = keras.utils.unpack_x_y_sample_weight(batch)
    context, target = model.context_and_target(
        validation.float32_tensor(x), None if y is None else validation.float32_tensor(y)
    )
    future = model.predict_future(context, int(target.shape[1]))
    return {
        "truth": ops.concatenate([context, target], axis=1),
        "prediction": ops.concatenate([context, future], axis=1),
    }


def dcgan_previews(model, batch, seed=0):
    """Samples from fixed latents (as many as the batch has clips, at most 16)."""
    real, _, _ = keras.utils.unpack_x_y_sample_weight(batch)
    return {"samples": model.sample(min(16, int(np.shape(real)[0])), seed=seed)}


def vae_previews(model, batch, seed=0):
    """The batch's clips, their reconstructions, and samples from fixed latents."""
    clips, _, _ = keras.utils.unpack_x_y_sample_weight(batch)
    return {
        "input": clips,
        "reconstruction": model.reconstruct(clips),
        "samples": model.sample(int(np.shape(clips)[0]), seed=seed),
    }


def interpolator_previews(model, batch, seed=0):
    """Frames t, t + 1, t + 2: the truth, the model's middle, and linear blending's."""
    neighbours, middle, _ = keras.utils.unpack_x_y_sample_weight(batch)
    neighbours = validation.float32_tensor(neighbours)
    frame_a, frame_b = neighbours[:, 0], neighbours[:, 1]

    def triplet(between):
        return ops.stack([frame_a, validation.float32_tensor(between), frame_b], axis=1)

    previews = {
        "prediction": triplet(model.interpolate(frame_a, frame_b)),
        "linear_blend": triplet(0.5 * (frame_a + frame_b)),
    }
    if middle is not None:
        previews = {"truth": triplet(middle), **previews}
    return previews


FAMILY_PREVIEWS = {
    "convlstm": predictor_previews,
    "simvp": predictor_previews,
    "dcgan": dcgan_previews,
    "vae": vae_previews,
    "interpolator": interpolator_previews,
}
