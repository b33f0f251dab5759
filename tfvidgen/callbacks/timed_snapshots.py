"""Saves the model every few minutes of training: the points of a learning curve against wall-clock time."""

import os
import time

import keras

from tfvidgen import atomic_files


class TimedSnapshots(keras.callbacks.Callback):
    """Writes `directory/minute_MMM.keras` each time another `minutes` of training have passed.

    Checked after every batch, so a snapshot is the model after the first step
    that ends past each mark. Evaluating the snapshots afterwards (`tfvidgen
    evaluate --model directory/minute_005.keras`) gives quality against CPU or
    GPU minutes without spending training time on evaluation. Each file is
    written atomically. The clock starts with `fit` (a resumed run restarts it).

    Args:
        directory: where the snapshots go (created).
        minutes: the interval, in minutes of wall-clock training time (> 0).
    """

    def __init__(self, directory, minutes):
        super().__init__()
        if not minutes or minutes <= 0:
            raise ValueError(f"`minutes` must be a positive number. Received: minutes={minutes!r}")
        self.directory = os.fspath(directory)
        self.minutes = float(minutes)
        self.start = None
        self.saved = []

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        os.makedirs(self.directory, exist_ok=True)

    def on_train_batch_end(self, batch, logs=None):
        elapsed = (time.monotonic() - self.start) / 60.0
        mark = self.minutes * (len(self.saved) + 1)
        if elapsed >= mark:
            name = f"{int(mark):03d}" if mark.is_integer() else f"{mark:06.2f}".replace(".", "_")
            path = os.path.join(self.directory, f"minute_{name}.keras")
            atomic_files.save_model(self.model, path)
            self.saved.append(path)
