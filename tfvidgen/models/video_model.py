"""What every tfvidgen model shares: presets and a compile that survives saving."""

import copy

import keras


class VideoModel:
    """Mixin for the tfvidgen model families (put it before `keras.Model`).

    Gives each family the same entry points:
    - `presets` (a dict of plain dicts) and `from_preset(name, **overrides)`;
    - `compile_from_config`, so a `.keras` file restores a custom `compile()`
      with its optimizers' state (Keras skips custom compiles otherwise);
    - `export_endpoints()`, overridden per family, which `tfvidgen.export`
      turns into SavedModel signatures;
    - `previews(batch, seed)`, overridden per family: named batches of clips
      that show what the model does (for `tfvidgen.callbacks.VideoSamples`).
    """

    presets = {}

    @classmethod
    def from_preset(cls, name, **overrides):
        """Builds the preset `name` with constructor `overrides`.

        Raises:
            ValueError: naming the unknown preset and the available ones.
        """
        if name not in cls.presets:
            raise ValueError(f"Unknown {cls.__name__} preset `name={name!r}`; expected one of {sorted(cls.presets)}.")
        config = copy.deepcopy(cls.presets[name]["config"])
        config.update(overrides)
        return cls(**config)

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        for optimizer, variables in self._optimizers_and_variables():
            optimizer.build(variables)

    def _optimizers_and_variables(self):
        """`(optimizer, variables)` pairs that `compile_from_config` builds."""
        return [(self.optimizer, self.trainable_variables)]

    def export_endpoints(self):
        """`{name: (function, input_signature)}` for `tfvidgen.export`."""
        raise NotImplementedError(f"{type(self).__name__} does not define serving endpoints.")

    def previews(self, batch, seed=0):
        """`{name: (n, frames, height, width, channels)}` clips showing the model at work."""
        raise NotImplementedError(f"{type(self).__name__} does not define previews.")
