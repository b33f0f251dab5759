"""Values that follow the training step: teacher forcing and KL weight.

Scheduled sampling (Bengio et al., 2015) lowers the probability of feeding the
ground truth as training goes on; KL annealing (Bowman et al., 2016; Fu et al.,
2019) raises the VAE's KL weight. Both are step -> value functions, written here
as `keras.optimizers.schedules.LearningRateSchedule` subclasses so they
serialize with the model and run in-graph (no callback, so they also work with
`steps_per_execution` and on TPUs). Anywhere a schedule is accepted, a plain
float means a constant.
"""

import keras
from keras import ops

from tfvidgen import validation


def _float_step(step):
    return ops.cast(step, "float32")


@keras.saving.register_keras_serializable(package="tfvidgen")
class LinearSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Goes linearly from `start` to `end` over `steps` steps, then stays at `end`.

    Args:
        start: value at step `delay` (and before it).
        end: value from step `delay + steps` on.
        steps: length of the ramp, in training steps.
        delay: steps to hold `start` before the ramp.

    Example:

    >>> schedule = LinearSchedule(1.0, 0.0, steps=100)
    >>> float(schedule(50))
    0.5
    """

    def __init__(self, start, end, steps, delay=0):
        self.start = float(start)
        self.end = float(end)
        self.steps = validation.positive_int("steps", steps)
        self.delay = validation.non_negative_int("delay", delay)

    def __call__(self, step):
        progress = ops.clip((_float_step(step) - self.delay) / self.steps, 0.0, 1.0)
        return self.start + (self.end - self.start) * progress

    def get_config(self):
        return {"start": self.start, "end": self.end, "steps": self.steps, "delay": self.delay}


@keras.saving.register_keras_serializable(package="tfvidgen")
class ExponentialSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """`end + (start - end) * rate ** step`: exponential decay towards `end`.

    Args:
        start: value at step 0.
        end: the limit.
        rate: per-step factor in (0, 1).
    """

    def __init__(self, start=1.0, end=0.0, rate=0.999):
        if not 0.0 < rate < 1.0:
            raise ValueError(f"`rate` must be in (0, 1). Received: rate={rate!r}")
        self.start = float(start)
        self.end = float(end)
        self.rate = float(rate)

    def __call__(self, step):
        return self.end + (self.start - self.end) * ops.power(self.rate, _float_step(step))

    def get_config(self):
        return {"start": self.start, "end": self.end, "rate": self.rate}


@keras.saving.register_keras_serializable(package="tfvidgen")
class InverseSigmoidSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """`end + (start - end) * k / (k + exp(step / k))` (Bengio et al., 2015).

    Stays near `start` for roughly `k * log(k)` steps, then falls towards `end`.

    Args:
        k: the schedule's scale, >= 1.
        start: value near step 0.
        end: the limit.
    """

    def __init__(self, k=1000.0, start=1.0, end=0.0):
        if not k >= 1.0:
            raise ValueError(f"`k` must be >= 1. Received: k={k!r}")
        self.k = float(k)
        self.start = float(start)
        self.end = float(end)

    def __call__(self, step):
        ratio = self.k / (self.k + ops.exp(ops.minimum(_float_step(step) / self.k, 80.0)))
        return self.end + (self.start - self.end) * ratio

    def get_config(self):
        return {"k": self.k, "start": self.start, "end": self.end}


@keras.saving.register_keras_serializable(package="tfvidgen")
class CyclicalSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Repeats a linear ramp from `low` to `high` then a plateau (Fu et al., 2019).

    Args:
        period: steps per cycle.
        ramp_fraction: fraction of the cycle spent ramping up.
        low: value at the start of each cycle.
        high: value on the plateau.
    """

    def __init__(self, period, ramp_fraction=0.5, low=0.0, high=1.0):
        self.period = validation.positive_int("period", period)
        self.ramp_fraction = validation.probability("ramp_fraction", ramp_fraction)
        if self.ramp_fraction == 0.0:
            raise ValueError("`ramp_fraction` must be > 0. Received: ramp_fraction=0.0")
        self.low = float(low)
        self.high = float(high)

    def __call__(self, step):
        position = ops.mod(_float_step(step), float(self.period)) / self.period
        progress = ops.minimum(position / self.ramp_fraction, 1.0)
        return self.low + (self.high - self.low) * progress

    def get_config(self):
        return {
            "period": self.period,
            "ramp_fraction": self.ramp_fraction,
            "low": self.low,
            "high": self.high,
        }


def value_at(schedule, step):
    """The float32 value of a schedule (or a constant float) at `step`."""
    if callable(schedule):
        return ops.cast(schedule(step), "float32")
    return ops.cast(schedule, "float32")


def serialize(schedule):
    """A float stays a float; a schedule becomes its Keras config."""
    if schedule is None or isinstance(schedule, (int, float)):
        return schedule
    return keras.saving.serialize_keras_object(schedule)


def number_or_schedule(name, value, check):
    """`value` as a schedule (or its serialized config), or as a number `check(name, value)` accepts.

    Args:
        name: the argument's name, for error messages.
        value: a schedule, a schedule's config, or a number (NumPy scalars too).
        check: a `tfvidgen.validation` function (e.g. `probability`) for a number; it raises `TypeError` or
            `ValueError` naming `name` and the range expected.

    Returns:
        The schedule, or the checked float.
    """
    if isinstance(value, dict) or callable(value):
        return deserialize(value)
    return check(name, value)


def deserialize(config):
    """The inverse of `serialize`."""
    if config is None or isinstance(config, (int, float)):
        return config
    if isinstance(config, keras.optimizers.schedules.LearningRateSchedule):
        return config
    return keras.saving.deserialize_keras_object(config)
