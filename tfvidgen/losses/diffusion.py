"""Diffusion in continuous time: the noise schedules, the training target and the denoised estimate.

Time `t` runs from 0 (data) to 1 (pure noise); a noisy sample is
`x_t = alpha(t) * x_0 + sigma(t) * noise`. Two objectives:
- `"v"`: the cosine schedule, `alpha = cos(pi t / 2)`, `sigma = sin(pi t / 2)`,
  and the network predicts the velocity `v = alpha * noise - sigma * x_0`
  (Salimans & Ho, "Progressive Distillation", 2022), the parameterization of
  Ho et al.'s video diffusion models;
- `"flow"`: rectified flow, `alpha = 1 - t`, `sigma = t`, and the network
  predicts `noise - x_0` (Liu et al., 2022; Lipman et al., 2022; Stable
  Diffusion 3).
Both give `x_0` and `noise` back from `(x_t, prediction)`, which is all
`deterministic_step` (DDIM, which for `"flow"` is Euler's method on the flow
ODE) needs.
"""

import math

from keras import ops

OBJECTIVES = ("v", "flow")


def alpha_sigma(t, objective):
    """`(alpha(t), sigma(t))` of `objective`, broadcast like `t`."""
    if objective == "v":
        angle = t * (math.pi / 2.0)
        return ops.cos(angle), ops.sin(angle)
    if objective == "flow":
        return 1.0 - t, t
    raise ValueError(f"`objective` must be one of {OBJECTIVES}. Received: objective={objective!r}")


def noisy_and_target(x0, noise, t, objective):
    """`(x_t, target)`: the noisy sample at time `t` (shaped to broadcast) and what the network should predict."""
    alpha, sigma = alpha_sigma(t, objective)
    noisy = alpha * x0 + sigma * noise
    if objective == "v":
        return noisy, alpha * noise - sigma * x0
    return noisy, noise - x0


def denoised(noisy, prediction, t, objective):
    """`(x_0, noise)` estimated from `x_t` and the network's `prediction` at time `t`."""
    alpha, sigma = alpha_sigma(t, objective)
    if objective == "v":
        return alpha * noisy - sigma * prediction, sigma * noisy + alpha * prediction
    return noisy - t * prediction, noisy + (1.0 - t) * prediction


def deterministic_step(noisy, prediction, t, t_next, objective):
    """One DDIM step (eta = 0) from time `t` to `t_next < t`: `alpha' * x_0 + sigma' * noise` of the estimates."""
    x0, noise = denoised(noisy, prediction, t, objective)
    alpha_next, sigma_next = alpha_sigma(t_next, objective)
    return alpha_next * x0 + sigma_next * noise


def guided(conditional, unconditional, guidance):
    """Classifier-free guidance (Ho & Salimans, 2022): `unconditional + guidance * (conditional - unconditional)`."""
    return unconditional + guidance * (conditional - unconditional)


def masked_mean_squared_error(target, prediction, frame_weights):
    """Mean squared error per clip over the frames whose weight is 1 (the frames to generate), batch-averaged.

    Args:
        target, prediction: `(batch, frames, ...)`.
        frame_weights: `(batch, frames)`, 1 where the frame counts.

    Returns:
        A scalar: the mean over clips of each clip's mean over its counted
        frames' values (a clip with no counted frame adds 0).
    """
    squared = ops.mean(ops.reshape(ops.square(prediction - target), ops.shape(frame_weights) + (-1,)), axis=-1)
    weights = ops.cast(frame_weights, squared.dtype)
    per_clip = ops.sum(squared * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
    return ops.mean(per_clip)
