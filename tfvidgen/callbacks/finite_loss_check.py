"""Stops `fit` with an error naming the step whose loss became NaN or inf."""

import keras
import numpy as np

from tfvidgen.callbacks.resumable_backup import optimizer_steps


class FiniteLossCheck(keras.callbacks.Callback):
    """Stops `fit` with a `FloatingPointError` at the first batch whose logged losses are NaN or inf.

    `VideoModel.fit` adds it to every tfvidgen model's `fit` (unless the callbacks
    already handle non-finite values: this one, `LastGoodCheckpoint` or Keras'
    `TerminateOnNaN`). Keras' `TerminateOnNaN` watches `loss` only, which the GAN
    does not log, and stops without an error.

    The callback stops training at that batch; `VideoModel.fit` raises the error
    (`raise_error()`) after Keras has ended training, so every callback's
    `on_train_end` runs. The model `fit` leaves behind holds no NaN. The training steps of
    `gradient_steps.PhasedSteps` (every family but the interpolator) skip a step
    whose loss is not finite: the weights, the optimizer state and the
    batch-norm statistics stay those of the step before. For a model on Keras'
    own step (the interpolator) this callback keeps a copy of the weights and
    the optimizer state at the start of each epoch, restored on NaN.

    Example:

    >>> model.fit(dataset, epochs=3)  # doctest: +SKIP
    FloatingPointError: `fit` stopped at optimizer step 3 (epoch 1, batch 3): the loss became NaN or inf ...
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0
        self.error = None
        self._epoch_start = None

    def _skips(self):
        return getattr(self.model, "skips_non_finite_steps", False)

    def _state(self):
        optimizer = getattr(self.model, "optimizer", None)
        return list(self.model.variables) + (list(optimizer.variables) if optimizer is not None else [])

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if not self._skips():
            saved = [np.array(keras.ops.convert_to_numpy(variable)) for variable in self._state()]
            self._epoch_start = (optimizer_steps(self.model), saved)

    def on_train_begin(self, logs=None):
        self.error = None

    def on_train_batch_end(self, batch, logs=None):
        # Losses only: a metric may be inf on a good step (PSNR of a perfect prediction).
        losses = {name: value for name, value in _numeric(logs).items() if "loss" in name}
        bad = {name: value for name, value in losses.items() if not np.isfinite(value).all()}
        if not bad or self.error is not None:
            return
        if hasattr(self.model, "jax_state_sync"):  # Keras' JAX trainer holds the step's state until a sync.
            self.model.jax_state_sync()
        values = ", ".join(f"{name}={float(np.ravel(value)[0])}" for name, value in sorted(bad.items()))
        if self._skips():
            step = optimizer_steps(self.model) + 1  # The skipped step did not count.
            kept = f"That step's update was skipped: the model keeps the weights of step {step - 1}."
        else:
            step = optimizer_steps(self.model)
            start, saved = self._epoch_start
            for variable, value in zip(self._state(), saved):
                variable.assign(value)
            kept = f"The weights and optimizer state are restored to those of step {start} (the epoch's start)."
        # Raised by `VideoModel.fit` once Keras has ended training (callbacks' on_train_end closes their files).
        self.error = FloatingPointError(
            f"`fit` stopped at optimizer step {step} (epoch {self.epoch + 1}, batch {batch + 1}): the loss became "
            f"NaN or inf ({values}). {kept} Check that batch for NaN/Inf values, or lower the learning rate."
        )
        self.model.stop_training = True

    def raise_error(self):
        """Raises the `FloatingPointError` of the batch that stopped training, if one did."""
        if self.error is not None:
            raise self.error


def _numeric(logs):
    """Log values as arrays (they may be Python floats, NumPy scalars or scalar tensors); strings dropped."""
    values = {name: np.asarray(value) for name, value in (logs or {}).items()}
    return {name: value for name, value in values.items() if np.issubdtype(value.dtype, np.number)}


def with_finite_loss_check(callbacks):
    """`callbacks` (a list, or None) with a `FiniteLossCheck` appended, unless one of them handles NaN already."""
    from tfvidgen.callbacks.last_good_checkpoint import LastGoodCheckpoint

    if callbacks is None:
        callbacks = []
    elif not isinstance(callbacks, (list, tuple)):  # A CallbackList: the caller manages it.
        return callbacks
    handles = (FiniteLossCheck, LastGoodCheckpoint, keras.callbacks.TerminateOnNaN)
    if any(isinstance(callback, handles) for callback in callbacks):
        return callbacks
    return [*callbacks, FiniteLossCheck()]
