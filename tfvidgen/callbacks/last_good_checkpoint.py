"""Stops on NaN/inf in any logged value and keeps the last good weights."""

import os

import keras
import numpy as np

from tfvidgen import atomic_files


class LastGoodCheckpoint(keras.callbacks.Callback):
    """Saves the model whenever every logged value is finite; on NaN/inf, rolls back and stops.

    Keras' `TerminateOnNaN` watches `loss` only, which the GAN does not log
    (it has `d_loss` and `g_loss`). This watches every numeric value, saves a
    `.keras` file (weights and optimizer state) at the end of each good epoch,
    and when a batch produces a non-finite value it reloads the last good
    weights into the model and stops training, so the model `fit` returns is
    usable.

    Args:
        filepath: the `.keras` file of the last good state.
    """

    def __init__(self, filepath):
        super().__init__()
        self.filepath = filepath
        self.stopped_at = None

    @staticmethod
    def _finite(logs):
        # Log values may be Python floats, NumPy scalars or scalar tensors.
        values = [np.asarray(value) for value in (logs or {}).values()]
        return all(np.isfinite(value).all() for value in values if np.issubdtype(value.dtype, np.number))

    def on_train_batch_end(self, batch, logs=None):
        if not self._finite(logs):
            self.stopped_at = batch
            self.model.stop_training = True
            if os.path.exists(self.filepath):
                self.model.load_weights(self.filepath)

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped_at is None and self._finite(logs):
            # Atomic: a full disk raises OSError naming the file, keeps the previous one and leaves no temporary.
            atomic_files.save_model(self.model, self.filepath)
