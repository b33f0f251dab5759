"""The roles decide (issue 26): registry and role classes agree, no family-name branch outside the registry and
`tfvidgen.models`, a new family plugs in through the hooks, and the old verbs warn and give the same results."""

import ast
import json
import pathlib
import warnings

import keras
import numpy as np
import pytest

import tfvidgen
from tfvidgen import export
from tfvidgen import families
from tfvidgen.models import FAMILIES
from tfvidgen.models import ROLE_CLASSES
from tfvidgen.models import GenerativeModel
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoVAE
from tfvidgen.models import signature_spec
from tfvidgen.serving import ExportedModel

PACKAGE = pathlib.Path(tfvidgen.__file__).parent


def test_every_family_has_the_role_the_registry_names():
    assert tuple(FAMILIES) == families.FAMILY_NAMES
    for family, cls in FAMILIES.items():
        assert cls.family == family
        assert cls.role == families.FAMILY_ROLES[family] and cls.role in families.ROLES
        assert issubclass(cls, ROLE_CLASSES[cls.role])
    # The role names are not family names: a comparison with one is never a family branch.
    assert not set(families.ROLES) & set(families.FAMILY_NAMES)
    assert families.PREDICTOR_FAMILIES == ("convlstm", "simvp")
    assert families.GENERATIVE_FAMILIES == ("dcgan", "vae", "diffusion")


def _family_name_branches(path):
    """`(line, name)` of family names compared with, listed in a tuple/list/set, or used as dict keys."""
    names = set(families.FAMILY_NAMES)
    found = []

    def constants(node):
        values = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
        return [(value.lineno, value.value) for value in values if isinstance(value, ast.Constant)]

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                found += [(line, value) for line, value in constants(operand) if value in names]
        elif isinstance(node, ast.Dict):
            found += [
                (key.lineno, key.value) for key in node.keys if isinstance(key, ast.Constant) and key.value in names
            ]
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            found += [(line, value) for line, value in constants(node) if value in names]
    return found


def test_no_family_name_branch_outside_the_registry_and_the_models():
    branches = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == "families.py" or relative.startswith("models/"):
            continue
        found = _family_name_branches(path)
        if found:
            branches[relative] = found
    assert branches == {}


class ToySampler(GenerativeModel, keras.Model):
    """A family outside the registry: one Dense decoder, and a `sample` with an extra `steps` input."""

    family = "toy"

    def __init__(self, **kwargs):
        latents = keras.Input((4,))
        clips = keras.layers.Reshape((2, 4, 4, 1))(keras.layers.Dense(32, activation="sigmoid")(latents))
        super().__init__(inputs=latents, outputs=clips, **kwargs)
        self.latent_dim = 4
        self.clip_shape = (2, 4, 4, 1)
        self.seed_generator = keras.random.SeedGenerator(0)

    def latent_decoder(self):
        return self

    def sample_step(self, num_samples, seed, steps=1):
        # `steps` halvings toward 0.5: a stand-in for a sampler's number of steps.
        clips = super().sample_step(num_samples, seed)
        return 0.5 + (clips - 0.5) * keras.ops.power(0.5, keras.ops.cast(steps, "float32"))

    def sample_signature(self):
        base = super().sample_signature()
        return base._replace(
            function=lambda num_samples, seed, steps: {"clips": self.sample_step(num_samples, seed, steps)},
            inputs=base.inputs + [signature_spec.ScalarInput("steps", minimum=1, maximum=8)],
            example={**base.example, "steps": np.array(2, np.int32)},
        )


def test_a_new_family_exports_and_serves_through_its_hooks_alone(tmp_path):
    model = ToySampler()
    path = export.export_for_serving(model, tmp_path / "toy", uint8=True, warmup=False)
    description = export.read_description(path)
    assert (description["family"], description["role"]) == ("toy", "generation")
    assert description["signatures"]["sample"]["steps"] == {"dtype": "int32", "shape": None}
    assert {"serving_default", "sample", "sample_uint8", "decode"} == set(description["signatures"])
    exported = ExportedModel(path)
    served = exported.sample(3, seed=5, steps=2).numpy()
    np.testing.assert_allclose(served, model.sample_step(3, 5, 2).numpy(), atol=1e-6)
    np.testing.assert_allclose(exported.sample(3, seed=5, steps=1).numpy() - 0.5, 2 * (served - 0.5), atol=1e-6)
    with pytest.raises(Exception, match="`steps` must be at most 8"):
        exported.sample(1, seed=0, steps=9)


@pytest.fixture(scope="module")
def dcgan():
    return VideoDCGAN.from_preset("tiny", seed=1)


def _warns(message, call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    deprecations = [warning for warning in caught if issubclass(warning.category, DeprecationWarning)]
    assert [str(warning.message) for warning in deprecations] == [message]
    assert deprecations[0].filename == __file__  # Reported at the caller's line.
    return result


def test_old_python_verbs_warn_and_give_the_same_results(dcgan):
    clips = _warns(
        "`VideoDCGAN.generate` is deprecated and will be removed in the next release; use `VideoDCGAN.sample`.",
        lambda: dcgan.generate(2, seed=3),
    )
    np.testing.assert_array_equal(clips.numpy(), dcgan.sample(2, seed=3).numpy())
    latents = np.random.default_rng(0).normal(size=(2, dcgan.latent_dim)).astype("float32")
    decoded = _warns(
        "`VideoDCGAN.generate_from_latents` is deprecated and will be removed in the next release; use "
        "`VideoDCGAN.decode`.",
        lambda: dcgan.generate_from_latents(latents),
    )
    np.testing.assert_array_equal(decoded.numpy(), dcgan.decode(latents).numpy())
    vae = VideoVAE.from_preset("tiny", seed=1)
    path = _warns(
        "`VideoVAE.interpolate` is deprecated and will be removed in the next release; use "
        "`VideoVAE.interpolate_latents`.",
        lambda: vae.interpolate(3, 4, steps=3),
    )
    np.testing.assert_array_equal(path.numpy(), vae.interpolate_latents(3, 4, steps=3).numpy())


def test_old_savedmodel_verbs_warn_and_give_the_same_results(dcgan, tmp_path):
    exported = ExportedModel(export.export_for_serving(dcgan, tmp_path / "gan", warmup=False))
    assert exported.role == "generation" and exported.family == "dcgan"
    clips = _warns(
        "`ExportedModel.generate` is deprecated and will be removed in the next release; use `ExportedModel.sample`.",
        lambda: exported.generate(2, seed=3),
    )
    np.testing.assert_array_equal(clips.numpy(), exported.sample(2, seed=3).numpy())
    np.testing.assert_array_equal(clips.numpy(), dcgan.sample(2, seed=3).numpy())
    latents = np.random.default_rng(0).normal(size=(2, dcgan.latent_dim)).astype("float32")
    # The GAN's signature's old name is served one more release, the same function as `decode`.
    old = exported.signatures["generate"](latents=latents)["clips"].numpy()
    np.testing.assert_array_equal(old, exported.decode(latents).numpy())
    np.testing.assert_array_equal(old, dcgan.decode(latents).numpy())


def test_an_export_of_tfvidgen_before_the_roles_gets_its_role_from_the_registry(dcgan, tmp_path):
    path = pathlib.Path(export.export_for_serving(dcgan, tmp_path / "gan", warmup=False))
    description_path = path / "assets.extra" / "tfvidgen.json"
    description = json.loads(description_path.read_text())
    assert (description["family"], description["role"]) == ("dcgan", "generation")
    del description["family"], description["role"]  # What tfvidgen 0.1.0 wrote.
    description_path.write_text(json.dumps(description))
    exported = ExportedModel(path)
    assert (exported.family, exported.role, exported.frame_shape) == ("dcgan", "generation", (16, 16, 1))
