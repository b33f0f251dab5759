"""`get_config`/`from_config` read from the constructor: every argument is an attribute of the same name."""

import inspect

from tfvidgen import schedules


class ConstructorConfig:
    """Mixin (before `keras.Model`): the config is the constructor's arguments, read back from the attributes.

    Every named constructor argument must be stored as the attribute of the
    same name (the keras-hub habit); schedules are serialized, everything else
    is returned as stored. `from_config` calls the constructor with it.
    """

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name != "self" and parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
                config[name] = schedules.serialize(getattr(self, name))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
