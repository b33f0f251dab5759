"""Files written before tasks held their networks (flat configs) load: `.keras` files and the shipped presets.

tests/data/legacy/ holds one tiny `.keras` file per family, saved by the code before the split (72d8b4c) after one
training step, and what that code read back from it (`<family>.npz`), and `presets.npz`, the shipped presets' outputs
under that code; `make_legacy.py` there wrote them.
"""

import json
import os
import warnings
import zipfile

import keras
import numpy as np
import pytest

from tfvidgen.models import FAMILIES

LEGACY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "legacy")


def _outputs(family, model, frame_size=16, latent_dim=4):
    """The outputs make_legacy.py recorded: fixed inputs per family."""
    rng = np.random.default_rng(0)
    size = (frame_size, frame_size, 1)
    if family in ("convlstm", "simvp"):
        context = rng.random((1, 10 if frame_size == 64 else 3) + size).astype("float32")
        return np.asarray(model.predict_future(context, 3))
    if family == "dcgan":
        return np.asarray(model.decode(rng.standard_normal((2, latent_dim)).astype("float32")))
    if family == "vae":
        return np.asarray(model(rng.random((1, 16 if frame_size == 64 else 4) + size).astype("float32")))
    return np.asarray(model(rng.random((2, 2) + size).astype("float32")))


def _optimizer_variables(model):
    optimizers = [getattr(model, name, None) for name in ("optimizer", "d_optimizer", "g_optimizer")]
    return [
        np.asarray(variable) for optimizer in optimizers if optimizer is not None for variable in optimizer.variables
    ]


# The families that existed before the split (tfvidgen 0.1.0): those with a file saved by the old code. A family
# added since (the video diffusion model) has no old files to load.
OLD_FAMILIES = sorted(name[: -len(".keras")] for name in os.listdir(LEGACY) if name.endswith(".keras"))


@pytest.mark.parametrize("family", OLD_FAMILIES)
def test_a_keras_file_with_a_flat_config_loads_with_its_weights_optimizer_state_and_outputs(family, tmp_path):
    path = os.path.join(LEGACY, f"{family}.keras")
    with zipfile.ZipFile(path) as archive:
        saved = json.loads(archive.read("config.json"))["config"]
    network_names = FAMILIES[family].network_classes
    assert not set(network_names) & set(saved)  # Flat: the networks' arguments beside the task's.
    expected = np.load(os.path.join(LEGACY, f"{family}.npz"))

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # An old file is not a deprecated call: it loads quietly.
        model = keras.saving.load_model(path)
    assert type(model) is FAMILIES[family]
    weights = model.get_weights()
    assert len(weights) == len([key for key in expected if key.startswith("weight_")])
    for index, weight in enumerate(weights):
        np.testing.assert_array_equal(weight, expected[f"weight_{index}"], err_msg=f"weight {index}")
    variables = _optimizer_variables(model)
    assert len(variables) == len([key for key in expected if key.startswith("optimizer_")]) > 0
    for index, variable in enumerate(variables):
        np.testing.assert_array_equal(variable, expected[f"optimizer_{index}"], err_msg=f"optimizer variable {index}")
    assert all(int(iterations) == 1 for iterations in variables[:1])  # One training step before saving.
    # Same machine as the file's maker: bit for bit; another CPU may round the last bits differently.
    np.testing.assert_allclose(_outputs(family, model), expected["output"], rtol=0, atol=1e-6)

    # Saved again, it is nested (each network serialized) and loads to the same state.
    assert set(network_names) <= set(model.get_config())
    model.save(tmp_path / "again.keras")
    again = keras.saving.load_model(tmp_path / "again.keras")
    for have, want in zip(again.get_weights() + _optimizer_variables(again), weights + variables):
        np.testing.assert_array_equal(have, want)


@pytest.mark.parametrize("family", OLD_FAMILIES)
def test_the_shipped_presets_load_and_give_the_numbers_of_the_code_before_the_split(family):
    expected = np.load(os.path.join(LEGACY, "presets.npz"))
    model = FAMILIES[family].from_preset("moving_mnist")
    outputs = _outputs(family, model, frame_size=64, latent_dim=64)
    np.testing.assert_allclose(outputs[..., ::8, ::8, :], expected[f"{family}_subsample"], rtol=0, atol=1e-5)
    assert outputs.mean() == pytest.approx(float(expected[f"{family}_mean"]), abs=1e-6)
