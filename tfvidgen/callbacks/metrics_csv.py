"""One CSV row per epoch, the file replaced whole each time."""

import csv
import io
import os

import keras
import numpy as np

from tfvidgen import atomic_files


class MetricsCSV(keras.callbacks.Callback):
    """Like `keras.callbacks.CSVLogger(append=True)`, but never leaves a half-written row.

    Each epoch the existing rows and the new one are written to a temporary
    file that replaces the CSV, so a run killed at any moment leaves a valid
    file, and a resumed run appends to it. A run that resumes at an earlier
    epoch than the file reaches (a failed or interrupted run restarted from
    its backup) replaces the rows of that epoch and later ones: one row per
    epoch, the last run's.

    Args:
        filename: the CSV file.
    """

    def __init__(self, filename):
        super().__init__()
        self.filename = os.fspath(filename)

    def _existing(self):
        if not os.path.exists(self.filename):
            return None, []
        with open(self.filename, newline="") as file:
            rows = list(csv.reader(file))
        return (rows[0], rows[1:]) if rows else (None, [])

    def on_epoch_end(self, epoch, logs=None):
        logs = {key: value for key, value in (logs or {}).items()}
        header, rows = self._existing()
        rows = [row for row in rows if _epoch_of(row) < epoch]
        if header is None:
            keys = sorted(logs)
            if not any(key.startswith("val_") for key in keys):
                keys += [f"val_{key}" for key in keys]
            header = ["epoch"] + keys

        def value(key):
            item = logs.get(key, "NA")
            return item if isinstance(item, str) else float(np.asarray(item))

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([epoch] + [value(key) for key in header[1:]])
        atomic_files.write_text(self.filename, buffer.getvalue())


def _epoch_of(row):
    """The epoch a row is about (its first column); a row without one sorts first and is kept."""
    try:
        return int(row[0])
    except (IndexError, ValueError):
        return -1
