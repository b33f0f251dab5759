"""What every tfvidgen model shares: presets, a compile that survives saving, inputs checked at the door."""

import copy
import json
import os
import sys

import keras
import numpy as np

from tfvidgen.models import preset_files
from tfvidgen.models.constructor_config import ConstructorConfig

PRESET_CONFIG_FILE = preset_files.CONFIG_FILE
PRESET_WEIGHTS_FILE = preset_files.WEIGHTS_FILE
# The pretrained presets: tfvidgen/presets/ in the package (a checkout's saved_models/ points there).
SAVED_MODELS = preset_files.presets_root()

# Frames a little outside [0, 1] (resampling overshoot) pass; 0-255 frames do not.
RANGE_TOLERANCE = 1e-3


class VideoModel(ConstructorConfig):
    """Mixin for the tfvidgen model families (put it before `keras.Model`).

    Gives each family the same entry points:
    - `presets` (a dict of plain dicts) and `from_preset(preset, load_weights=True,
      **overrides)`, which also loads pretrained presets, keras-hub style: a directory with
      `config.json` and `model.weights.h5` (`save_to_preset`), a short name
      in `pretrained` (e.g. `"moving_mnist"`: `tfvidgen/presets/<family>_cpu_small`,
      shipped in the wheel), or an archive's URL with its sha256;
    - `get_config`/`from_config` from the constructor (`ConstructorConfig`);
    - `compile_from_config`, so a `.keras` file restores a custom `compile()`
      with its optimizers' state (Keras skips custom compiles otherwise);
    - `fit` and `evaluate` that check the first batch before Keras runs:
      its shapes against `input_shapes(x, y)` (per family), its values in
      [0, 1] and finite, each failure a `ValueError` naming what was expected.

    What differs by role (serving signatures, training previews, the CLI's
    data and hooks) comes from the role classes (`FramePredictor`,
    `GenerativeModel`, `InterpolatorModel`; `tfvidgen.models.model_role`),
    declared without TensorFlow, so the models run on any Keras backend;
    `tfvidgen.export` types the declared signatures for TensorFlow.
    """

    presets = {}
    pretrained = {}  # short name -> directory name in tfvidgen/presets/ (saved_models/ in a checkout)
    family = None  # The CLI's name of the family ("convlstm", "dcgan", ...).
    checkpoint_monitor = "val_loss"  # What `BestCheckpoint` minimises (None: no best checkpoint).
    default_learning_rate = 1e-3  # The CLI's, where a preset names none.

    @classmethod
    def from_preset(cls, preset, load_weights=True, **overrides):
        """Builds the preset `preset` with constructor `overrides`.

        Args:
            preset: an architecture preset (`cls.presets`, random weights), a
                pretrained short name (`cls.pretrained`, shipped in the
                package), a preset directory (`config.json` +
                `model.weights.h5`, e.g. `"saved_models/convlstm_cpu_small"`),
                or the URL of a `.tar.gz`/`.zip` of one preset directory
                followed by `#sha256=` and the archive's 64 hex digits
                (`"https://host/simvp.tar.gz#sha256=9f86d0..."`): downloaded
                once into `$KERAS_HOME/tfvidgen_presets/` by
                `keras.utils.get_file`, and reused while its sha256 matches.
                A directory with a `metadata.json` has its files' sha256
                checked against it. Pretrained presets load with their
                weights (stored as float16, cast to the model's dtype).
            load_weights: False builds a pretrained preset's architecture and
                training settings with random weights (to train it anew, with
                overrides that change weight shapes).
            **overrides: arguments to change, the task's or its networks'
                by name (`frame_shape`, `teacher_forcing`; the DCGAN's
                `generator_filters`: `cls.accepted_names()` lists them). With
                pretrained weights only those that keep every weight's shape
                (e.g. a `seed`, `teacher_forcing`, `beta`).

        Raises:
            TypeError: when `preset` is not a string or a path.
            ValueError: naming the unknown preset and the available ones; an
                override that no constructor takes, or that does not fit the
                pretrained weights; a
                `config.json` or `model.weights.h5` that cannot be read or
                whose sha256 differs from `metadata.json`'s; a URL without a
                sha256, whose download has another sha256, or that cannot be
                fetched (named).
        """
        if isinstance(preset, str) and preset in cls.presets:
            config = copy.deepcopy(cls.presets[preset]["config"])
            config.update(overrides)
            return cls.from_config(config)  # Flat: each key to the network or the task that takes it.
        expected = (
            f"one of {sorted(cls.presets)}, a pretrained name in {sorted(cls.pretrained)}, or a directory with "
            f"{PRESET_CONFIG_FILE} and {PRESET_WEIGHTS_FILE}"
        )
        if not isinstance(preset, (str, os.PathLike)):
            raise TypeError(f"`preset` must be {expected}. Received: preset={preset!r} of type {type(preset).__name__}")
        directory = os.fspath(preset)
        if directory in cls.pretrained:
            directory = os.path.join(preset_files.presets_root(), cls.pretrained[directory])
        elif preset_files.is_url(directory):
            directory = preset_files.fetch(directory)
        config_path = os.path.join(directory, PRESET_CONFIG_FILE)
        if not os.path.isfile(config_path):
            raise ValueError(f"Unknown {cls.__name__} preset `preset={preset!r}`; expected {expected}.")
        # Flat (as tfvidgen 0.1.0 wrote presets, or nested as `get_config` does now): the overrides' vocabulary.
        config = cls.flat_config(_read_preset_config(config_path, cls.__name__))
        metadata = preset_files.read_metadata(directory)
        preset_files.check_hash(directory, PRESET_CONFIG_FILE, metadata)
        model = cls.from_config({**config, **overrides})
        if not load_weights:
            return model
        weights_path = os.path.join(directory, PRESET_WEIGHTS_FILE)
        if not os.path.isfile(weights_path):
            raise FileNotFoundError(
                f"The preset {directory!r} has no {PRESET_WEIGHTS_FILE}; pass load_weights=False for random weights."
            )
        if overrides:
            _check_overrides_fit(cls, preset, config, overrides, model)
        try:
            model.load_weights(weights_path)
        # h5py raises OSError, KeyError or RuntimeError as the damage falls, naming neither the file nor the cause.
        except (OSError, KeyError, RuntimeError, ValueError) as error:
            raise ValueError(
                f"{weights_path!r} is corrupt or unreadable as this preset's weights ({_first_line(error)}); "
                "restore it, or pass load_weights=False for random weights."
            ) from None
        # After the load, so a file h5py cannot read is named as such; one it reads but that changed is caught here.
        preset_files.check_hash(directory, PRESET_WEIGHTS_FILE, metadata)
        return model

    def save_to_preset(self, directory):
        """Writes a pretrained preset: `config.json` (class and config) and `model.weights.h5` (no optimizer).

        The weights are the model's dtype (float32); `tools/make_preset.py DIR` stores them as float16 and writes
        `metadata.json` with the files' sha256, as the shipped presets are.
        """
        from tfvidgen import atomic_files

        os.makedirs(directory, exist_ok=True)
        config = {"class_name": type(self).__name__, "module": "tfvidgen.models", "config": self.get_config()}
        atomic_files.write_json(os.path.join(directory, PRESET_CONFIG_FILE), config)
        with atomic_files.atomic_path(os.path.join(directory, PRESET_WEIGHTS_FILE)) as temporary:
            weights_only = type(self).from_config(self.get_config())
            weights_only.set_weights(self.get_weights())  # The model's variables, not the optimizer's.
            weights_only.save_weights(temporary)
        metadata = preset_files.read_metadata(directory)
        if metadata:  # Its hashes would refuse the new files.
            preset_files.write_metadata(directory, **{k: v for k, v in metadata.items() if k != "sha256"})
        return directory

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        for optimizer, variables in self._optimizers_and_variables():
            optimizer.build(variables)

    def _optimizers_and_variables(self):
        """`(optimizer, variables)` pairs that `compile_from_config` builds."""
        return [(self.optimizer, self.trainable_variables)]

    # === Inputs checked at the door ===

    def input_shapes(self, x, y):
        """`[(name, array, expected shape)]` for a batch; `None` in a shape matches any size.

        Overridden per family; the default checks nothing.
        """
        return []

    def fit(self, x=None, y=None, *args, **kwargs):
        from tfvidgen.callbacks import finite_loss_check

        self._check_first_batch(x, y, "fit")
        # A NaN/inf loss in a later batch: a FloatingPointError naming the step (tfvidgen.callbacks.FiniteLossCheck).
        if len(args) > 3:  # Keras' order: batch_size, epochs, verbose, callbacks, ...
            callbacks = finite_loss_check.with_finite_loss_check(args[3])
            args = (*args[:3], callbacks, *args[4:])
        else:
            callbacks = kwargs["callbacks"] = finite_loss_check.with_finite_loss_check(kwargs.get("callbacks"))
        if hasattr(x, "element_spec") and len(args) < 7 and "shuffle" not in kwargs:
            # Keras ignores `shuffle` for a tf.data pipeline, and warns on every fit that its default is True.
            kwargs["shuffle"] = False
        history = super().fit(x, y, *args, **kwargs)
        for callback in callbacks if isinstance(callbacks, (list, tuple)) else []:
            if isinstance(callback, finite_loss_check.FiniteLossCheck):
                callback.raise_error()
        return history

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check_first_batch(x, y, "evaluate")
        return super().evaluate(x, y, *args, **kwargs)

    def _check_first_batch(self, x, y, method):
        batch = _first_batch(x, y)
        if batch is None:
            return
        batch_x, batch_y, _ = keras.utils.unpack_x_y_sample_weight(batch)
        for name, array, expected in self.input_shapes(batch_x, batch_y):
            shape = tuple(np.shape(array))
            matches = len(shape) == len(expected) and all(
                want is None or have == want for have, want in zip(shape, expected)
            )
            if not matches:
                described = (
                    "("
                    + ", ".join("batch" if i == 0 else ("any" if w is None else str(w)) for i, w in enumerate(expected))
                    + ")"
                )
                raise ValueError(
                    f"`{method}` on {type(self).__name__}: {name} must have shape {described}. "
                    f"The first batch has shape {shape}."
                )
        for name, array, _ in self.input_shapes(batch_x, batch_y):
            _check_values(name, np.asarray(array), method, type(self).__name__)


def _first_batch(x, y):
    """The first batch of what `fit` was given (a tf.data.Dataset, a PyDataset, arrays), or None."""
    tf = sys.modules.get("tensorflow")  # A tf.data.Dataset or tf.Tensor means TensorFlow is imported already.
    if tf is not None and isinstance(x, tf.data.Dataset):
        if x.element_spec is None:
            return None
        for element in x.take(1):
            return tf.nest.map_structure(lambda tensor: tensor.numpy(), element)
        raise ValueError("The dataset given to `fit`/`evaluate` is empty: it yields no batch.")
    if isinstance(x, keras.utils.PyDataset):
        return x[0] if len(x) else None
    if isinstance(x, np.ndarray) or (tf is not None and isinstance(x, tf.Tensor)):
        return (x[:32],) if y is None else (x[:32], np.asarray(y)[:32])
    return None


def _check_values(name, array, method, model_name):
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        return
    if not np.isfinite(array).all():
        raise ValueError(
            f"`{method}` on {model_name}: {name} holds NaN or Inf in the first batch; frames must be finite, in [0, 1]."
        )
    low, high = float(array.min()), float(array.max())
    if low < -RANGE_TOLERANCE or high > 1.0 + RANGE_TOLERANCE:
        fix = " Divide 0-255 frames by 255." if high > 1.5 else ""
        raise ValueError(
            f"`{method}` on {model_name}: {name} must hold frames in [0, 1]; the first batch has values in "
            f"[{low:g}, {high:g}].{fix}"
        )


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _read_preset_config(path, class_name):
    """The constructor config in a preset's `config.json`, or a `ValueError` naming the file and what is wrong."""
    try:
        with open(path) as file:
            serialized = json.load(file)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path!r} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path!r} is not a text file ({error.reason} at byte {error.start}).") from None
    if not isinstance(serialized, dict) or not isinstance(serialized.get("config"), dict):
        raise ValueError(
            f'{path!r} must hold a JSON object with "class_name" and a "config" object (as `save_to_preset` writes it).'
        )
    if serialized.get("class_name") != class_name:
        raise ValueError(f"{path!r} holds a {serialized.get('class_name')} preset, not a {class_name} one.")
    return dict(serialized["config"])


def _weight_shapes(model):
    return [tuple(variable.shape) for variable in model.weights]


def _check_overrides_fit(cls, preset, config, overrides, model):
    """Raises `ValueError` naming the overrides that change the shape of a pretrained weight."""
    if _weight_shapes(model) == _weight_shapes(cls.from_config(config)):
        return
    conflicting = [
        key
        for key, value in overrides.items()
        if _weight_shapes(cls.from_config({**config, key: value})) != _weight_shapes(cls.from_config(config))
    ] or list(overrides)  # Only together: name them all.
    described = ", ".join(f"{key}={overrides[key]!r} (pretrained: {config.get(key)!r})" for key in conflicting)
    call = ", ".join([repr(preset), "load_weights=False"] + [f"{key}={value!r}" for key, value in overrides.items()])
    raise ValueError(
        f"{described} does not fit the weights of the pretrained {cls.__name__} preset {preset!r}: it changes "
        f"their shapes. To train that architecture from the preset's config with random weights, call "
        f"{cls.__name__}.from_preset({call})."
    )
