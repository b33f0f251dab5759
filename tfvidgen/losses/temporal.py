"""Temporal-consistency terms on generated clips."""

from keras import ops


def brightness_change(clips):
    """Per-clip mean absolute frame-to-frame change of the frames' mean brightness.

    The same statistic as `tfvidgen.metrics.brightness_flicker`, per clip and
    differentiable.

    Args:
        clips: `(batch, frames >= 2, height, width, channels)`.

    Returns:
        float32 `(batch,)`, in brightness units per frame.
    """
    clips = ops.cast(clips, "float32")
    brightness = ops.mean(clips, axis=(2, 3, 4))
    return ops.mean(ops.abs(brightness[:, 1:] - brightness[:, :-1]), axis=1)


def flicker_penalty(generated, real, epsilon=1e-3):
    """Per generated clip, how much more its brightness changes than real clips', relative to their brightness.

    `relu(change(generated) - mean(change(real))) / (mean(real) + epsilon)`:
    zero for a clip that changes its brightness no more than the real batch
    does on average, growing with the excess otherwise. Measured against the
    real batch, not against zero, so data whose lighting does change (fades,
    cuts) keeps its changes; dividing by the real clips' brightness makes the
    weight mean the same on dark and bright data. In Moving MNIST a digit
    neither vanishes nor appears, so its pixel mass is constant: a sample
    whose digits fade out and back is penalized, one whose digits move is not.

    Args:
        generated: `(batch, frames >= 2, height, width, channels)` generated clips.
        real: `(real_batch, frames, height, width, channels)` real clips.
        epsilon: added to the real clips' mean brightness before dividing.

    Returns:
        float32 `(batch,)`.
    """
    real = ops.cast(real, "float32")
    reference = ops.mean(brightness_change(real))
    excess = ops.relu(brightness_change(generated) - reference)
    return excess / (ops.mean(real) + epsilon)
