"""GAN objectives on discriminator logits."""

from keras import ops

from tfvidgen import validation

ADVERSARIAL_LOSSES = ("non_saturating", "hinge")


def discriminator_loss(real_logits, fake_logits, kind="non_saturating"):
    """Per-example discriminator loss.

    Args:
        real_logits: `(batch, 1)` logits on real clips.
        fake_logits: `(batch, 1)` logits on generated clips.
        kind: `"non_saturating"` (binary cross-entropy, Goodfellow et al.
            2014) or `"hinge"` (Lim & Ye 2017; Miyato et al. 2018).

    Returns:
        float32 `(batch,)`.
    """
    validation.one_of("kind", kind, ADVERSARIAL_LOSSES)
    real_logits = ops.reshape(ops.cast(real_logits, "float32"), (-1,))
    fake_logits = ops.reshape(ops.cast(fake_logits, "float32"), (-1,))
    if kind == "hinge":
        return ops.relu(1.0 - real_logits) + ops.relu(1.0 + fake_logits)
    # softplus(-x) = -log(sigmoid(x)); softplus(x) = -log(1 - sigmoid(x)).
    return ops.softplus(-real_logits) + ops.softplus(fake_logits)


def generator_loss(fake_logits, kind="non_saturating"):
    """Per-example generator loss: `-log D(G(z))` or, for hinge, `-D(G(z))`.

    Returns:
        float32 `(batch,)`.
    """
    validation.one_of("kind", kind, ADVERSARIAL_LOSSES)
    fake_logits = ops.reshape(ops.cast(fake_logits, "float32"), (-1,))
    if kind == "hinge":
        return -fake_logits
    return ops.softplus(-fake_logits)
