"""Training previews: named batches of clips that show a model at work, as its role (or family) makes them.

`VideoSamples` writes them as GIFs and PNGs. Each role class implements
`previews(batch, seed)` with `keras.ops` only, so they run on every backend:
a predictor shows the truth above its rollout, a generative model its samples
(the VAE adds its inputs and their reconstructions), the interpolator its middle
frames beside linear blending's.
"""

from tfvidgen.models.model_role import ModelRole


def for_model(model, batch, seed=0):
    """`{name: (n, frames, height, width, channels)}` previews of `model` on `batch` (`model.previews`)."""
    if not isinstance(model, ModelRole):
        raise ValueError(
            f"{type(model).__name__} has no previews: it must be a tfvidgen model (a FramePredictor, "
            "GenerativeModel or InterpolatorModel)."
        )
    return model.previews(batch, seed)
