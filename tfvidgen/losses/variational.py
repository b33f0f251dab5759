"""The KL term of the evidence lower bound for a diagonal Gaussian posterior."""

from keras import ops


def kl_divergence_per_dimension(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) for every latent dimension, in nats.

    `0.5 * (mean^2 + exp(log_var) - 1 - log_var)`, shape `(batch, latent_dim)`, float32.
    """
    z_mean = ops.cast(z_mean, "float32")
    z_log_var = ops.cast(z_log_var, "float32")
    return 0.5 * (ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var)


def kl_divergence(z_mean, z_log_var, free_bits=0.0):
    """Per-clip KL divergence to the standard normal prior, in nats.

    Args:
        z_mean: `(batch, latent_dim)`.
        z_log_var: `(batch, latent_dim)`.
        free_bits: nats per latent dimension below which the KL is not
            penalised (Kingma et al., 2016): each dimension's KL, averaged over
            the batch, is clamped from below at `free_bits`. 0 disables it.

    Returns:
        float32 `(batch,)`. With free bits, every clip carries the clamped
        batch-average, so the batch mean equals the free-bits objective.
    """
    per_dimension = kl_divergence_per_dimension(z_mean, z_log_var)
    if not free_bits:
        return ops.sum(per_dimension, axis=-1)
    clamped = ops.maximum(ops.mean(per_dimension, axis=0), free_bits)
    return ops.ones_like(per_dimension[:, 0]) * ops.sum(clamped)
