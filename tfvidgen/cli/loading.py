"""Loading whatever the user points the CLI at: a .keras file, a run directory, an export."""

import json
import os
import zipfile

import keras
import tensorflow as tf

from tfvidgen.models import FAMILIES
from tfvidgen.models import preset_files
from tfvidgen.serving.exported_model import ExportedModel


def family_of(model):
    """The family name (a key of `tfvidgen.models.FAMILIES`) of a model or an `ExportedModel`."""
    if isinstance(model, ExportedModel):
        return model.family
    for family, cls in FAMILIES.items():
        if isinstance(model, cls):
            return family
    raise ValueError(f"{type(model).__name__} is not a tfvidgen model family ({', '.join(FAMILIES)}).")


def role_of(model):
    """The role (`"prediction"`, `"generation"`, `"interpolation"`) of a model or an `ExportedModel`, else None."""
    return getattr(model, "role", None)


def _is_saved_model(path):
    if tf.io.gfile.exists(os.path.join(path, "saved_model.pb")):
        return True
    return tf.io.gfile.isdir(path) and any(name.rstrip("/").isdigit() for name in tf.io.gfile.listdir(path))


def _load_keras(path):
    # Keras answers "File not found" for a file that exists but is not a whole zip (a truncated write).
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path!r} exists but is not a valid .keras file: a truncated or corrupt zip of "
            f"{os.path.getsize(path):,} bytes. Retrain, or use a checkpoint of the run (checkpoints/*.keras)."
        )
    try:
        return keras.models.load_model(path)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path!r} holds a config.json that is not valid JSON: {error.msg} (line {error.lineno}, column "
            f"{error.colno}). Retrain, or use a checkpoint of the run (checkpoints/*.keras)."
        ) from None
    except (OSError, KeyError, RuntimeError) as error:  # h5py: a damaged model.weights.h5 inside the zip.
        if isinstance(error, OSError) and error.errno is not None:  # The system's (no space, no file handle):
            raise  # h5py's "file signature not found" and the like carry no errno.
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"{path!r} holds a corrupt or unreadable model.weights.h5 ({cause}). Retrain, or use a checkpoint "
            "of the run (checkpoints/*.keras)."
        ) from None


def _load_preset(path):
    """A preset directory (`config.json` + `model.weights.h5`, e.g. `saved_models/vae_cpu_small`) as its model."""
    with open(os.path.join(path, preset_files.CONFIG_FILE)) as file:
        try:
            class_name = json.load(file).get("class_name")
        except (json.JSONDecodeError, AttributeError):
            class_name = None
    classes = {cls.__name__: cls for cls in FAMILIES.values()}
    if class_name not in classes:
        raise ValueError(
            f"{os.path.join(path, preset_files.CONFIG_FILE)!r} names no tfvidgen model class "
            f"({', '.join(sorted(classes))}); it is not a preset's config."
        )
    return classes[class_name].from_preset(path)


def load_any(path):
    """Loads a `.keras` file, a run directory (its `model.keras`), a preset directory (or its URL) or a SavedModel.

    Returns:
        A Keras model, or an `ExportedModel` for SavedModels.

    Raises:
        FileNotFoundError: naming the path and what was looked for.
    """
    path = os.fspath(path)
    if preset_files.is_url(path):
        path = preset_files.fetch(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model at {path!r}: expected a .keras file, a run directory or a SavedModel.")
    if os.path.isfile(path):
        if not path.endswith(".keras"):
            raise ValueError(f"{path!r} is not a .keras file.")
        return _load_keras(path)
    run_model = os.path.join(path, "model.keras")
    if os.path.exists(run_model):
        return _load_keras(run_model)
    is_preset = all(
        os.path.isfile(os.path.join(path, name)) for name in (preset_files.CONFIG_FILE, preset_files.WEIGHTS_FILE)
    )
    if is_preset and not _is_saved_model(path):
        return _load_preset(path)
    if _is_saved_model(path):
        return ExportedModel(path)
    raise FileNotFoundError(
        f"{path!r} holds no model.keras (a finished run directory) and no SavedModel "
        "(saved_model.pb or numbered version directories), and is not a preset (config.json + model.weights.h5)."
    )
