"""Keeps the model of the best validation score, written atomically."""

import numpy as np

import keras

from tfvidgen import atomic_files


class BestCheckpoint(keras.callbacks.Callback):
    """Saves a `.keras` file whenever `monitor` reaches a new minimum, atomically.

    `keras.callbacks.ModelCheckpoint(save_best_only=True)` writes in place, so
    an interrupt during the write leaves a truncated file; this writes to a
    temporary name and renames it.

    Args:
        filepath: the `.keras` file.
        monitor: a validation metric to minimise, e.g. `"val_loss"`.
    """

    def __init__(self, filepath, monitor):
        super().__init__()
        self.filepath = filepath
        self.monitor = monitor
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        value = float(np.asarray(value))
        if np.isfinite(value) and value < self.best:
            self.best = value
            atomic_files.save_model(self.model, self.filepath)
