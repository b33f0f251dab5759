"""Stops training after a wall-clock budget."""

import time

import keras


class TimeLimit(keras.callbacks.Callback):
    """Stops `fit` after `minutes` of training (checked after every batch).

    Args:
        minutes: the budget, counted from the start of `fit`.
    """

    def __init__(self, minutes):
        super().__init__()
        self.seconds = 60.0 * minutes
        self.start = None
        self.stopped = False

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self.start >= self.seconds:
            self.stopped = True
            self.model.stop_training = True
