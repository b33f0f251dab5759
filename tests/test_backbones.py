"""Tasks hold their networks (keras-hub's task/backbone split): construction, configs, flat keys and their routing."""

import hashlib
import json
import warnings

import keras
import numpy as np
import pytest

from tfvidgen.cli.main import main as tfvidgen_main
from tfvidgen.cli.train import parse_overrides
from tfvidgen.models import FAMILIES
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import SimVPBackbone
from tfvidgen.models import SimVPPredictor
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoDecoder
from tfvidgen.models import VideoDiscriminator
from tfvidgen.models import VideoEncoder
from tfvidgen.models import VideoGenerator
from tfvidgen.models import VideoVAE
from tfvidgen.models.constructor_config import ConstructorConfig
from tfvidgen.models.convlstm import ConvLSTMBackbone

# sha256 (first 16 hex digits) of each tiny preset's weights built after keras.utils.set_random_seed(5) by the code
# before tasks held their networks (72d8b4c; tests/data/legacy/make_legacy.py hashes). Initial values come from
# stateless random ops, the same on every CPU.
OLD_TINY_WEIGHTS_SHA256 = {
    "convlstm": "5dfea9aef93f1662",
    "simvp": "a34446d3e9e96b8b",
    "dcgan": "b7a64f89251a9163",
    "vae": "929da92b20e95b74",
    "interpolator": "fb343ec56cc49bbf",
}

# Each task built the new way from the tiny preset's networks (the same arguments as the preset's flat config).
NEW_STYLE = {
    "convlstm": lambda: ConvLSTMPredictor(
        backbone=ConvLSTMBackbone(frame_shape=(16, 16, 1), filters=(8, 8), kernel_sizes=3, patch_size=2),
        context_frames=2,
    ),
    "simvp": lambda: SimVPPredictor(
        backbone=SimVPBackbone(
            (16, 16, 1), 2, 2, spatial_filters=8, translator_filters=16, translator_blocks=1, translator_kernel_size=3
        )
    ),
    "dcgan": lambda: VideoDCGAN(
        generator=VideoGenerator((4, 16, 16, 1), latent_dim=16, filters=(32, 16)),
        discriminator=VideoDiscriminator((4, 16, 16, 1), filters=(16, 32)),
    ),
    "vae": lambda: VideoVAE(
        encoder=VideoEncoder((4, 16, 16, 1), latent_dim=8, filters=(8, 16)),
        decoder=VideoDecoder((4, 16, 16, 1), latent_dim=8, filters=(16, 8)),
    ),
}


def _weights_sha256(model):
    return hashlib.sha256(b"".join(weight.tobytes() for weight in model.get_weights())).hexdigest()[:16]


def _output(family, model):
    rng = np.random.default_rng(0)
    if family in ("convlstm", "simvp"):
        return np.asarray(model.predict_future(rng.random((1, 3, 16, 16, 1)).astype("float32"), 3))
    if family == "dcgan":
        return np.asarray(model.decode(rng.standard_normal((2, 16)).astype("float32")))
    return np.asarray(model(rng.random((1, 4, 16, 16, 1)).astype("float32")))


@pytest.mark.parametrize("family", sorted(OLD_TINY_WEIGHTS_SHA256))  # The families that existed before the split.
def test_a_seeded_tiny_preset_has_the_weights_of_the_code_before_the_split(family):
    keras.utils.set_random_seed(5)
    assert _weights_sha256(FAMILIES[family].from_preset("tiny")) == OLD_TINY_WEIGHTS_SHA256[family]


@pytest.mark.parametrize("family", sorted(NEW_STYLE))
def test_new_style_old_style_and_preset_give_the_same_model_bit_for_bit(family):
    cls = FAMILIES[family]
    keras.utils.set_random_seed(5)
    new_style = NEW_STYLE[family]()
    flat = {key: value for key, value in cls.presets["tiny"]["config"].items()}
    keras.utils.set_random_seed(5)
    with pytest.warns(DeprecationWarning) as caught:
        old_style = cls(**flat)
    keras.utils.set_random_seed(5)
    preset = cls.from_preset("tiny")
    assert _weights_sha256(new_style) == _weights_sha256(old_style) == OLD_TINY_WEIGHTS_SHA256[family]
    flat_configs = [cls.flat_config(model.get_config()) for model in (new_style, old_style, preset)]
    for config in flat_configs:
        del config["name"]
    assert flat_configs[0] == flat_configs[1] == flat_configs[2]
    expected = _output(family, preset)
    np.testing.assert_array_equal(_output(family, new_style), expected)
    np.testing.assert_array_equal(_output(family, old_style), expected)
    # The warning points at the caller (this file), names the flat keys and says what to do instead.
    (warning,) = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert warning.filename == __file__
    networks = ", ".join(f"{name}={network.__name__}(...)" for name, network in cls.network_classes.items())
    network_keys = sorted(set(flat) & set(cls.flat_argument_table()))
    assert str(warning.message) == (
        f"Building {cls.__name__} from its networks' arguments ({', '.join(network_keys)}) is deprecated and will be "
        f"removed in the next release: pass {networks}, or call {cls.__name__}.from_preset(name, **overrides)."
    )


def test_the_config_holds_each_network_serialized_and_only_the_tasks_own_arguments():
    expected = {
        "convlstm": {"backbone": "ConvLSTMBackbone", "own": ["context_frames", "seed", "teacher_forcing"]},
        "simvp": {"backbone": "SimVPBackbone", "own": []},
        "dcgan": {
            "generator": "VideoGenerator",
            "discriminator": "VideoDiscriminator",
            "own": ["flicker_penalty_weight", "seed"],
        },
        "vae": {
            "encoder": "VideoEncoder",
            "decoder": "VideoDecoder",
            "own": ["beta", "free_bits", "reconstruction", "seed"],
        },
    }
    for family, want in expected.items():
        cls = FAMILIES[family]
        model = cls.from_preset("tiny")
        config = json.loads(json.dumps(model.get_config()))
        networks = {name: class_name for name, class_name in want.items() if name != "own"}
        assert sorted(config) == sorted(["name", "trainable", *networks, *want["own"]]), family
        for name, class_name in networks.items():
            assert (
                config[name]["class_name"] == class_name and config[name]["registered_name"] == f"tfvidgen>{class_name}"
            )
            assert config[name]["config"]["name"] == name  # Built from a flat config: named after the argument.
        restored = cls.from_config(config)
        assert json.loads(json.dumps(restored.get_config())) == config
    # No network: the interpolator's config is its constructor's arguments, as before.
    assert sorted(FAMILIES["interpolator"].from_preset("tiny").get_config()) == [
        "filters",
        "frame_shape",
        "kernel_size",
        "learned_blend",
        "name",
        "trainable",
    ]


def test_a_flat_key_goes_to_every_constructor_that_takes_it():
    gan = VideoDCGAN.from_preset("tiny", generator_filters=(8, 8), frame_discriminator_filters=(4, 4), seed=3)
    assert gan.generator.filters == [8, 8] and gan.discriminator.filters == [16, 32]
    assert gan.discriminator.frame_filters == [4, 4] and gan.seed == 3
    gan = VideoDCGAN.from_preset("tiny", clip_shape=(8, 16, 16, 1))  # Shared: both networks.
    assert gan.generator.clip_shape == gan.discriminator.clip_shape == (8, 16, 16, 1)
    vae = VideoVAE.from_preset("tiny", latent_dim=4, decoder_upsampling="resize", beta=0.5)
    assert (vae.encoder.latent_dim, vae.decoder.latent_dim, vae.latent_prior.latent_dim) == (4, 4, 4)
    assert vae.decoder.upsampling == "resize" and vae.beta == 0.5
    own, networks = VideoDCGAN.split_flat_config({"clip_shape": (4, 16, 16, 1), "generator_filters": (8,), "seed": 1})
    assert own == {"seed": 1}
    assert networks == {
        "generator": {"clip_shape": (4, 16, 16, 1), "filters": (8,)},
        "discriminator": {"clip_shape": (4, 16, 16, 1)},
    }
    # --set's values, parsed as the CLI parses them.
    model = ConvLSTMPredictor.from_preset("tiny", **parse_overrides(["filters=[4]", "teacher_forcing=0.5"]))
    assert model.backbone.filters == [4] and model.teacher_forcing == 0.5


def test_a_key_no_constructor_takes_is_named_with_the_accepted_ones():
    with pytest.raises(ValueError) as error:
        VideoDCGAN.from_preset("tiny", filters=(4, 4))
    assert str(error.value) == (
        "VideoDCGAN takes no argument `filters` (given filters=(4, 4)); expected one of ['brightness_discriminator_"
        "filters', 'clip_shape', 'discriminator', 'discriminator_filters', 'flicker_penalty_weight', "
        "'frame_discriminator_filters', 'generator', 'generator_filters', 'generator_motion_units', "
        "'generator_upsampling', 'latent_dim', 'minibatch_stddev_group', 'seed', 'spectral_norm', "
        "'synchronized_batch_norm', 'two_stream']."
    )
    with pytest.raises(
        ValueError, match=r"^SimVPPredictor takes no argument `filter` \(given filter=8\); expected one"
    ):
        SimVPPredictor.from_preset("moving_mnist", filter=8)  # A pretrained preset's overrides too.
    with pytest.raises(ValueError, match=r"^ConvLSTMPredictor takes no argument `fliters`"):
        ConvLSTMPredictor.from_config({"frame_shape": (16, 16, 1), "fliters": (4,)})


def test_the_cli_names_a_set_key_no_constructor_takes_before_it_creates_anything(tmp_path, capsys):
    out = tmp_path / "run"
    code = tfvidgen_main(["train", "vae", "--preset", "tiny", "--set", "encoder_filter=[4,4]", "--out", str(out)])
    assert code == 1 and not out.exists()
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(
        "tfvidgen: error: VideoVAE takes no argument `encoder_filter` (given encoder_filter=[4, 4]);"
    )


def test_networks_are_checked_when_given():
    encoder = VideoEncoder((4, 16, 16, 1), latent_dim=8, filters=(8, 16))
    with pytest.raises(ValueError) as error:
        VideoVAE(encoder=encoder, decoder=VideoDecoder((4, 16, 16, 1), latent_dim=4, filters=(16, 8)))
    assert (
        str(error.value)
        == "VideoVAE's networks must agree on `latent_dim`. Received: encoder.latent_dim=8, decoder.latent_dim=4"
    )
    with pytest.raises(TypeError) as error:
        SimVPPredictor(backbone=encoder)
    assert str(error.value) == (
        f"`backbone` must be a SimVPBackbone. Received: backbone={encoder!r} of type VideoEncoder"
    )
    backbone = SimVPBackbone((16, 16, 1), 2, 2, spatial_filters=8, translator_filters=16, name="mine")
    with warnings.catch_warnings(), pytest.raises(ValueError) as error:
        warnings.simplefilter("ignore", DeprecationWarning)
        SimVPPredictor(backbone=backbone, future_frames=3)
    assert (
        str(error.value)
        == "SimVPPredictor takes `backbone` or its arguments, not both. Received: backbone='mine' and future_frames=3"
    )


def test_a_backbone_of_any_name_loads_the_pretrained_weights():
    pretrained = SimVPPredictor.from_preset("moving_mnist")
    config = SimVPPredictor.flat_config(pretrained.get_config())
    backbone_arguments = {key: value for key, value in config.items() if key not in ("name", "trainable")}
    model = SimVPPredictor(backbone=SimVPBackbone(**backbone_arguments, name="my_backbone"), name="mine")
    from tfvidgen.models import preset_files

    model.load_weights(f"{preset_files.presets_root()}/simvp_cpu_small/model.weights.h5")
    for loaded, reference in zip(model.get_weights(), pretrained.get_weights()):
        np.testing.assert_array_equal(loaded, reference)


def test_a_preset_saved_now_holds_nested_networks_and_takes_flat_overrides(tmp_path):
    keras.utils.set_random_seed(0)
    model = VideoVAE.from_preset("tiny", seed=2)
    directory = model.save_to_preset(tmp_path / "vae")
    config = json.loads((directory / "config.json").read_text())["config"]
    assert config["encoder"]["class_name"] == "VideoEncoder" and "latent_dim" not in config
    loaded = VideoVAE.from_preset(directory, beta=0.25)  # A task argument: the weights still fit.
    assert loaded.beta == 0.25 and loaded.seed == 2
    for have, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(have, want)
    with pytest.raises(ValueError, match=r"^latent_dim=4 \(pretrained: 8\) does not fit the weights"):
        VideoVAE.from_preset(directory, latent_dim=4)
    assert VideoVAE.from_preset(directory, load_weights=False, latent_dim=4).decoder.latent_dim == 4


@keras.saving.register_keras_serializable(package="tfvidgen_tests")
class TwoNetworkTask(ConstructorConfig, keras.Model):
    """A new family's task, declared as the checklist says: its networks, their flat names, which may be None."""

    network_classes = {"backbone": SimVPBackbone, "refiner": ConvLSTMBackbone}
    flat_argument_names = {"refiner_filters": ("refiner", "filters")}
    optional_networks = ("refiner",)

    def __init__(self, backbone=None, refiner=None, weight=1.0, **kwargs):
        networks, kwargs = self.networks_from_arguments({"backbone": backbone, "refiner": refiner}, kwargs)
        super().__init__(**kwargs)
        self.backbone = networks["backbone"]
        self.refiner = networks["refiner"]
        self.weight = weight


def test_a_new_family_declares_its_networks_once_and_gets_configs_and_routing():
    small = {"frame_shape": (16, 16, 1), "context_frames": 2, "future_frames": 2, "spatial_filters": 4}
    task = TwoNetworkTask.from_config({**small, "translator_filters": 8, "weight": 2.0})
    assert task.refiner is None and task.weight == 2.0 and task.backbone.translator_filters == 8
    config = json.loads(json.dumps(task.get_config()))
    assert config["refiner"] is None and config["backbone"]["class_name"] == "SimVPBackbone"
    assert json.loads(json.dumps(TwoNetworkTask.from_config(config).get_config())) == config
    # A flat key of the optional network builds it; a key both networks take (frame_shape, patch_size) goes to both.
    task = TwoNetworkTask.from_config({**small, "refiner_filters": (4,), "patch_size": 2})
    assert task.refiner.filters == [4] and task.refiner.frame_shape == task.backbone.frame_shape == (16, 16, 1)
    assert task.refiner.patch_size == task.backbone.patch_size == 2
    assert TwoNetworkTask.flat_config(task.get_config())["refiner_filters"] == [4]
    with pytest.raises(ValueError, match=r"^TwoNetworkTask's networks must agree on `frame_shape`. Received: backbo"):
        TwoNetworkTask(backbone=task.backbone, refiner=ConvLSTMBackbone(frame_shape=(8, 8, 1), filters=(4,)))
