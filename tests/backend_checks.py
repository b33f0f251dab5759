"""The harness checks of every family, run in a fresh process under the backend in KERAS_BACKEND.

`python tests/backend_checks.py harness OUT.json`: for the ConvLSTM, the SimVP, the DCGAN and the VAE (tiny presets,
a fixed seed): loss falling under `fit`, the config and `.keras` round trips (equal outputs and optimizer steps; the
VAE's samples from its fitted prior), rollout and sample shapes, seeded samples reproducible, and whether TensorFlow
was imported.
`python tests/backend_checks.py save DIRECTORY`: trains each family briefly and saves `<family>.keras` and the
outputs to compare in `outputs.npz` (for the cross-backend test).
`python tests/backend_checks.py data_parallel OUT.json`: one training step of each family on every device
(keras.distribution.DataParallel) against the same step on one device, from the same weights and batch (JAX).
"""

import json
import os
import sys

import keras
import numpy as np

from tfvidgen import schedules
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import SimVPPredictor
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoVAE

FAMILIES = {"convlstm": ConvLSTMPredictor, "simvp": SimVPPredictor, "dcgan": VideoDCGAN, "vae": VideoVAE}
PREDICTORS = ("convlstm", "simvp")
CLIPS = np.random.default_rng(0).random((16, 4, 16, 16, 1)).astype("float32")


def outputs(family, model):
    """A deterministic output of each family."""
    if family in PREDICTORS:
        return np.asarray(model.predict_future(CLIPS[:2, :2], 3))
    return np.asarray(model.sample(2, seed=3))


def backend_free_outputs(family, model):
    """Outputs that use no random numbers (fixed NumPy latents), equal across backends for equal weights."""
    if family in PREDICTORS:
        return outputs(family, model)
    latents = np.random.default_rng(5).normal(size=(2, model.latent_dim)).astype("float32")
    return np.asarray(model.decode(latents))


def tiny(family):
    """The family's tiny preset, seeded where the family draws random numbers (the SimVP draws none)."""
    return FAMILIES[family].from_preset("tiny", **({} if family == "simvp" else {"seed": 1}))


def trained(family, epochs=3):
    keras.utils.set_random_seed(1)
    model = tiny(family)
    model.compile()
    history = model.fit(CLIPS, epochs=epochs, batch_size=8, verbose=0, shuffle=False)
    return model, history.history


def harness(out):
    import tempfile

    results = {"backend": keras.backend.backend()}
    for family in FAMILIES:
        model, history = trained(family)
        if family == "vae":  # Samples from a fitted prior, which the round trip must keep.
            model.fit_latent_prior(CLIPS)
        loss = history["loss"] if family != "dcgan" else history["d_loss"]
        config = json.loads(json.dumps(model.get_config()))
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "model.keras")
            model.save(path)
            restored = keras.saving.load_model(path)
        first, again = outputs(family, model), outputs(family, model)
        shape = tuple(outputs(family, model).shape)
        results[family] = {
            "loss": [float(value) for value in loss],
            "config_round_trip": json.loads(json.dumps(type(model).from_config(config).get_config())) == config,
            "reload_max_difference": float(np.abs(outputs(family, restored) - first).max()),
            "reload_steps": [_steps(restored), _steps(model)],
            "output_shape": shape,
            "reproducible": bool(np.array_equal(first, again)),
        }
        if family not in PREDICTORS:
            results[family]["other_seed_differs"] = bool(not np.allclose(first, np.asarray(model.sample(2, seed=4))))
            results[family]["interpolate_shape"] = tuple(model.interpolate(3, 4, steps=5).shape)
        if family == "vae":
            results[family]["prior_fitted"] = [model.latent_prior.is_fitted(), restored.latent_prior.is_fitted()]
    results["dcgan_options"] = _dcgan_options()
    if keras.backend.backend() == "jax":  # The notebooks' strategy cell, on JAX.
        from tfvidgen import distribute

        strategy = distribute.get_strategy()
        with strategy.scope():
            results["strategy"] = [distribute.describe(strategy), strategy.num_replicas_in_sync]
    results["tensorflow_imported"] = "tensorflow" in sys.modules
    with open(out, "w") as file:
        json.dump(results, file)


def _dcgan_options():
    """The GAN's options off the tiny preset's path: motion path, brightness stream, scheduled flicker penalty."""
    import tempfile

    keras.utils.set_random_seed(1)
    gan = VideoDCGAN.from_preset(
        "tiny",
        generator_motion_units=8,
        brightness_discriminator_filters=(8, 8),
        generator_upsampling="resize",
        flicker_penalty_weight=schedules.LinearSchedule(0.0, 10.0, steps=1),  # A schedule: on from step 1.
        seed=1,
    )
    gan.compile()
    history = gan.fit(CLIPS, epochs=1, batch_size=8, verbose=0).history
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        gan.save(path)
        restored = keras.saving.load_model(path)
    clips = np.asarray(gan.sample(2, seed=3))
    return {
        "finite": bool(all(np.isfinite(history[key]).all() for key in ("d_loss", "g_loss", "flicker_penalty"))),
        "reload_max_difference": float(np.abs(np.asarray(restored.sample(2, seed=3)) - clips).max()),
        "scores_max_difference": float(
            np.abs(np.asarray(restored.discriminator(clips)) - np.asarray(gan.discriminator(clips))).max()
        ),
        "output_shape": list(clips.shape),
    }


def _steps(model):
    optimizer = model.g_optimizer if hasattr(model, "g_optimizer") else model.optimizer
    return int(keras.ops.convert_to_numpy(optimizer.iterations.value))


def save(directory):
    os.makedirs(directory, exist_ok=True)
    arrays = {}
    for family in FAMILIES:
        model, _ = trained(family, epochs=1)
        model.save(os.path.join(directory, f"{family}.keras"))
        arrays[family] = backend_free_outputs(family, model)
    np.savez(os.path.join(directory, "outputs.npz"), **arrays)


def data_parallel(out):
    from tfvidgen import distribute

    devices = keras.distribution.list_devices()
    results = {"devices": len(devices)}
    for family in FAMILIES:
        keras.utils.set_random_seed(2)
        reference = tiny(family)
        start = reference.get_weights()
        reference.compile()
        reference.train_on_batch(CLIPS[:8])
        single = [np.asarray(weight) for weight in reference.get_weights()]
        distribute.data_parallel(devices)
        model = tiny(family)
        model.set_weights(start)
        model.compile()
        model.train_on_batch(CLIPS[:8])
        parallel = [np.asarray(weight) for weight in model.get_weights()]
        keras.distribution.set_distribution(None)
        results[family] = max(float(np.abs(a - b).max()) for a, b in zip(single, parallel))
    with open(out, "w") as file:
        json.dump(results, file)


if __name__ == "__main__":
    {"harness": harness, "save": save, "data_parallel": data_parallel}[sys.argv[1]](sys.argv[2])
