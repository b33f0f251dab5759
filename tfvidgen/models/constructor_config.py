"""Configs read from the constructor, and tasks that hold their networks (keras-hub's task/backbone split).

A network (a backbone, a generator...) is a `ConstructorConfig` model whose
config is its constructor's arguments. A task (the model you `fit`) takes its
networks as constructor arguments and keeps only its own arguments (loss
weights, teacher forcing, a seed). It declares them once:

    class SimVPPredictor(FramePredictor, keras.Model):
        network_classes = {"backbone": SimVPBackbone}

        def __init__(self, backbone=None, **kwargs):
            networks, kwargs = self.networks_from_arguments({"backbone": backbone}, kwargs)
            super().__init__(**kwargs)
            self.backbone = networks["backbone"]

and gets `get_config` (each network serialized by
`keras.saving.serialize_keras_object`), `from_config` (that config, or a flat
one as tfvidgen 0.1.0 wrote them: old `.keras` files and presets), and the
flat vocabulary of presets, `from_preset(name, **overrides)` and `--set`: a
network's argument goes by its own name (`frame_shape`, to every network that
takes it, and to the task if it takes it too), or by the name the task gives
it in `flat_argument_names` where two constructors share a name
(`generator_filters`, `discriminator_filters`). `split_flat_config` is the one
place that routes a flat key. A network the task may go without, or builds a
default of itself, is listed in `optional_networks`: `None` then stays `None` unless a key of its
own (not one it shares) is given.
Nothing else is needed: one more argument of a backbone is one edit, in the
backbone.
"""

import inspect
import warnings

import keras

from tfvidgen import schedules

# Keras' own constructor arguments, which every model takes.
KERAS_ARGUMENTS = ("name", "trainable", "dtype")


def constructor_arguments(cls):
    """The named arguments of `cls.__init__` (positional or keyword), in order."""
    return [
        name
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
    ]


class ConstructorConfig:
    """Mixin (before `keras.Model`): the config is the constructor's arguments, read back from the attributes.

    Every named constructor argument must be stored as the attribute of the
    same name (the keras-hub habit); networks named in `network_classes` are
    serialized as Keras objects, schedules as theirs, everything else is
    returned as stored. `from_config` calls the constructor with it.
    """

    # Constructor argument -> class of the network it takes (`{"backbone": SimVPBackbone}`).
    network_classes = {}
    # Flat key -> (network argument, that network's argument), for the names that differ.
    flat_argument_names = {}
    # Networks that may be None (the task builds its own default, or goes without): None stays None unless a flat
    # key of the network's own (not one it shares with another constructor) is given.
    optional_networks = ()

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for name in constructor_arguments(type(self)):
            value = getattr(self, name)
            if name in self.network_classes:
                config[name] = keras.saving.serialize_keras_object(value)
            else:
                config[name] = schedules.serialize(value)
        return config

    @classmethod
    def from_config(cls, config):
        """Builds from `get_config()`'s config, or from a flat one (old `.keras` files and presets)."""
        config = dict(config)
        for name in cls.network_classes:
            if isinstance(config.get(name), dict):
                config[name] = keras.saving.deserialize_keras_object(config[name])
        own, flat = cls.split_flat_config(config)
        networks = cls._networks({name: own.pop(name, None) for name in cls.network_classes}, flat)
        return cls(**own, **networks)

    # === Flat configs ===

    @classmethod
    def flat_argument_table(cls):
        """`{flat key: [(network, argument), ...]}`: where each flat key goes."""
        renamed = {target: key for key, target in cls.flat_argument_names.items()}
        table = {}
        for network, network_class in cls.network_classes.items():
            for argument in constructor_arguments(network_class):
                key = renamed.get((network, argument), argument)
                table.setdefault(key, []).append((network, argument))
        return table

    @classmethod
    def accepted_names(cls):
        """The keys a flat config, `from_preset`'s overrides and `--set` accept, sorted."""
        return sorted(set(constructor_arguments(cls)) | set(cls.flat_argument_table()))

    @classmethod
    def split_flat_config(cls, config):
        """`(the task's own arguments, {network: {argument: value}})` from a flat config.

        A key goes to every constructor that takes it: the task's own, and each
        network's (by `flat_argument_table`). Keras' `name`, `trainable` and
        `dtype` are the task's.

        Raises:
            ValueError: naming a key that no constructor takes, and the accepted names.
        """
        own_names = set(constructor_arguments(cls)) | set(KERAS_ARGUMENTS)
        table = cls.flat_argument_table()
        own, flat = {}, {name: {} for name in cls.network_classes}
        for key, value in config.items():
            if key not in own_names and key not in table:
                raise ValueError(
                    f"{cls.__name__} takes no argument `{key}` (given {key}={value!r}); expected one of "
                    f"{cls.accepted_names()}."
                )
            if key in own_names:
                own[key] = value
            for network, argument in table.get(key, ()):
                flat[network][argument] = value
        return own, flat

    @classmethod
    def flat_config(cls, config):
        """`config` (as `get_config` returns it, or already flat) in the flat vocabulary of presets and `--set`.

        Each network's arguments are listed under their flat names (a shared
        one, like the DCGAN's `clip_shape`, once); the networks' names are
        dropped (a task names the networks it builds after its arguments).
        """
        flat_name = {target: key for key, targets in cls.flat_argument_table().items() for target in targets}
        flat = {}
        for key, value in config.items():
            if key not in cls.network_classes or value is None:
                flat[key] = value
                continue
            network_config = value.get_config() if isinstance(value, keras.Model) else value["config"]
            for argument, argument_value in network_config.items():
                if (key, argument) in flat_name:
                    flat.setdefault(flat_name[(key, argument)], argument_value)
        return flat

    # === Networks ===

    @classmethod
    def networks_from_arguments(cls, given, kwargs):
        """`({network: model}, the rest of kwargs)` for a task's `__init__`.

        Args:
            given: `{network argument: its value}` (a model, or `None`).
            kwargs: the constructor's `**kwargs`; the networks' flat arguments
                in it (`frame_shape=...`) build the networks not given, with a
                `DeprecationWarning` (for one release after 0.1.0: pass the
                networks, or `from_preset(name, **overrides)`).

        Raises:
            TypeError: a network of the wrong class.
            ValueError: a network given with flat arguments for it too, or
                networks that disagree on a shared argument.
        """
        table = cls.flat_argument_table()
        flat = {key: kwargs.pop(key) for key in list(kwargs) if key in table}
        if flat:
            networks = ", ".join(
                f"{name}={network_class.__name__}(...)" for name, network_class in cls.network_classes.items()
            )
            warnings.warn(
                f"Building {cls.__name__} from its networks' arguments ({', '.join(sorted(flat))}) is deprecated "
                f"and will be removed in the next release: pass {networks}, or call "
                f"{cls.__name__}.from_preset(name, **overrides).",
                DeprecationWarning,
                stacklevel=3,
            )
        _, per_network = cls.split_flat_config(flat)
        return cls._networks(given, per_network), kwargs

    @classmethod
    def _networks(cls, given, per_network):
        networks = {}
        table = cls.flat_argument_table()
        for name, network_class in cls.network_classes.items():
            network, arguments = given.get(name), per_network.get(name, {})
            # An optional network is built by a key of its own, not by one it shares (a frame_shape).
            own_keys = [
                argument for targets in table.values() if len(targets) == 1 for net, argument in targets if net == name
            ]
            if network is None and name in cls.optional_networks and not set(arguments) & set(own_keys):
                pass
            elif network is None:
                # Named after the argument, as before networks were arguments (and its variables' paths).
                network = network_class(**arguments, name=name)
            elif arguments:
                raise ValueError(
                    f"{cls.__name__} takes `{name}` or its arguments, not both. Received: {name}={network.name!r} "
                    f"and {', '.join(f'{key}={value!r}' for key, value in arguments.items())}"
                )
            elif not isinstance(network, network_class):
                raise TypeError(
                    f"`{name}` must be a {network_class.__name__}. Received: {name}={network!r} of type "
                    f"{type(network).__name__}"
                )
            networks[name] = network
        for key, targets in table.items():
            values = {
                f"{network}.{argument}": getattr(networks[network], argument)
                for network, argument in targets
                if networks[network] is not None
            }
            if len(set(map(repr, values.values()))) > 1:
                described = ", ".join(f"{path}={value!r}" for path, value in values.items())
                raise ValueError(f"{cls.__name__}'s networks must agree on `{key}`. Received: {described}")
        return networks
