"""Resume points that are never half written, and a stop on Ctrl-C or SIGTERM that keeps the step."""

import json
import os
import shutil
import signal
import threading
import warnings

import keras

from tfvidgen import atomic_files

WEIGHTS_FILE = "latest.weights.h5"
METADATA_FILE = "training_metadata.json"


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` with atomic writes, signal handling and checked resumes.

    - The weights (with the optimizer state) and the metadata (epoch, batch,
      optimizer step) are each written to a temporary file and renamed into
      place, weights first: a kill at any moment leaves the previous backup
      or the new one.
    - SIGINT (Ctrl-C) and SIGTERM, while `fit` runs in the main thread, stop
      training after the step in progress and write a backup of exactly that
      step; `interrupted_by` names the signal. A second signal interrupts at
      once (the backup on disk is still whole).
    - On resume the backup is checked: metadata that does not parse, weights
      that do not load, or an optimizer step that differs from the metadata's
      raise a `ValueError` saying what is wrong and what is left
      (`fallback`, e.g. the last good checkpoint), instead of training on
      silently from a partial state.
    - The backup is not deleted at the end of `fit`: delete it (`remove()`)
      once the final model is safely written.

    Args:
        backup_dir: the directory of the backup.
        save_freq: `"epoch"` or a number of steps between backups.
        fallback: a path named in the resume error as what else can be used.
    """

    def __init__(self, backup_dir, save_freq="epoch", fallback=None):
        super().__init__(backup_dir, save_freq=save_freq, delete_checkpoint=False)
        self.fallback = fallback
        self.interrupted_by = None
        self.resumed_from = None
        self._previous_handlers = {}

    # === Writing ===

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        with atomic_files.atomic_path(self._weights_path) as temporary:
            self.model.save_weights(temporary, overwrite=True)
        metadata = {
            "epoch": self._current_epoch,
            "batch": self._last_batch_seen,
            "optimizer_steps": optimizer_steps(self.model),
        }
        atomic_files.write_json(self._training_metadata_path, metadata)

    def remove(self):
        """Deletes the backup directory (after the final model is written)."""
        if os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)

    # === Resuming ===

    def _load_model(self):
        has_weights = os.path.exists(self._weights_path)
        has_metadata = os.path.exists(self._training_metadata_path)
        atomic_files.remove_leftovers(self.backup_dir)
        if not has_weights and not has_metadata:
            return
        problem = None
        metadata = None
        try:
            with open(self._training_metadata_path) as file:
                metadata = json.load(file)
            int(metadata["epoch"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            problem = f"{self._training_metadata_path} is missing or unreadable ({error})"
        if problem is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    super()._load_model()
                except Exception as error:  # h5py and Keras raise various types for a bad file.
                    problem = f"{self._weights_path} does not load ({type(error).__name__}: {error})"
            partial = [str(item.message) for item in caught if "variables" in str(item.message).lower()]
            if problem is None and partial:
                problem = f"{self._weights_path} is partial: {partial[0].splitlines()[0]}"
        expected = None if metadata is None else metadata.get("optimizer_steps")
        if problem is None and expected is not None and optimizer_steps(self.model) != expected:
            problem = (
                f"{self._weights_path} restored optimizer step {optimizer_steps(self.model)}, "
                f"the metadata says {expected}"
            )
        if problem is not None:
            left = f" What is left: {self.fallback}." if self.fallback and os.path.exists(self.fallback) else ""
            raise ValueError(
                f"Cannot resume from {self.backup_dir}: {problem}.{left} Pass --overwrite to start afresh."
            )
        self.resumed_from = metadata

    # === Signals ===

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.interrupted_by = None
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous_handlers[number] = signal.signal(number, self._on_signal)

    def _on_signal(self, number, frame):
        if self.interrupted_by is not None:  # The second signal: stop now.
            self._restore_handlers()
            raise KeyboardInterrupt
        self.interrupted_by = signal.Signals(number).name
        self.model.stop_training = True

    def _restore_handlers(self):
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler)
        self._previous_handlers = {}

    def on_train_batch_end(self, batch, logs=None):
        if self.interrupted_by is None:
            super().on_train_batch_end(batch, logs)
        else:
            self._last_batch_seen = batch
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.interrupted_by is None:  # An interrupted epoch is not complete: resume repeats it.
            super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        self._restore_handlers()
        if self.interrupted_by is not None:
            # Here, not at the batch's end: the signal may land while later callbacks of the last
            # batch run, after this one's turn; once training has ended, no step can follow the save.
            self._save_model()


def optimizer_steps(model):
    """The model's optimizer step (the GAN's generator step), as an int on every backend."""
    optimizer = model.optimizer if getattr(model, "optimizer", None) is not None else model.g_optimizer
    iterations = optimizer.iterations
    if keras.backend.backend() == "tensorflow":
        # `.numpy()`, not `int()`: under MultiWorkerMirroredStrategy the value is a MirroredVariable.
        return int(iterations.numpy())
    return int(keras.ops.convert_to_numpy(iterations.value))
