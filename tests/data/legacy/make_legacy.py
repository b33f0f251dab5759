"""Writes the legacy fixtures of tests/test_legacy_files.py with the code BEFORE tasks held their backbones.

    git worktree add /tmp/old26 72d8b4c
    PYTHONPATH=/tmp/old26 python tests/data/legacy/make_legacy.py save tests/data/legacy
    PYTHONPATH=/tmp/old26 python tests/data/legacy/make_legacy.py presets tests/data/legacy

`save`: one tiny model per family (flat configs), trained one step and saved as `<family>.keras`, with
`<family>.npz`: what the old code read back from that file (its outputs on fixed inputs, weights and optimizer
variables). `presets`: `presets.npz`, the shipped presets' outputs on fixed inputs (every 8th pixel of each frame,
and the mean), and prints each output's sha256 (compare two runs, old and new code, on one machine: bit for bit).
`hashes`: prints the sha256 of each tiny preset's outputs built on a fixed seed (old and new code must agree).
"""

import hashlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tfvidgen import models  # noqa: E402

FAMILIES = ("convlstm", "simvp", "dcgan", "vae", "interpolator")
# The tiny presets made smaller still, so each file weighs tens of KB.
SMALLER = {
    "convlstm": {"filters": (4,)},
    "simvp": {"spatial_filters": 4, "spatial_strides": (2,), "translator_filters": 4, "translator_blocks": 0},
    "dcgan": {"latent_dim": 4, "generator_filters": (4, 4), "discriminator_filters": (4, 4)},
    "vae": {"latent_dim": 4, "encoder_filters": (4, 4), "decoder_filters": (4, 4)},
    "interpolator": {"filters": (4, 4)},
}


def inputs(family, frame_size=16, seed=0, latent_dim=4):
    """Fixed inputs per family: `(fit batch, output function)`."""
    rng = np.random.default_rng(seed)
    size = (frame_size, frame_size, 1)
    if family in ("convlstm", "simvp"):
        context = rng.random((1, 10 if frame_size == 64 else 3) + size).astype("float32")
        pairs = (rng.random((4, 2) + size).astype("float32"), rng.random((4, 2) + size).astype("float32"))
        return pairs, lambda model: np.asarray(model.predict_future(context, 3))
    if family == "dcgan":
        latents = rng.standard_normal((2, latent_dim)).astype("float32")
        return (rng.random((8, 4) + size).astype("float32"),), lambda model: np.asarray(model.decode(latents))
    if family == "vae":
        clips = rng.random((1, 16 if frame_size == 64 else 4) + size).astype("float32")
        return (rng.random((8, 4) + size).astype("float32"),), lambda model: np.asarray(model(clips))
    neighbours = rng.random((2, 2) + size).astype("float32")
    batch = (rng.random((4, 2) + size).astype("float32"), rng.random((4,) + size).astype("float32"))
    return batch, lambda model: np.asarray(model(neighbours))


def save(out):
    for family in FAMILIES:
        keras.utils.set_random_seed(0)
        model = models.FAMILIES[family].from_preset("tiny", **SMALLER[family])
        model.compile()
        batch, output = inputs(family)
        model.fit(*batch, batch_size=len(batch[0]), epochs=1, verbose=0)
        path = os.path.join(out, f"{family}.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        optimizers = [getattr(restored, name, None) for name in ("optimizer", "d_optimizer", "g_optimizer")]
        optimizer_variables = [v for o in optimizers if o is not None for v in o.variables]
        np.savez_compressed(
            os.path.join(out, f"{family}.npz"),
            output=output(restored),
            **{f"weight_{i}": w for i, w in enumerate(restored.get_weights())},
            **{f"optimizer_{i}": np.asarray(v) for i, v in enumerate(optimizer_variables)},
        )
        print(family, os.path.getsize(path), "bytes")


def presets(out):
    arrays = {}
    for family in FAMILIES:
        model = models.FAMILIES[family].from_preset("moving_mnist")
        _, output = inputs(family, frame_size=64, latent_dim=64)
        result = output(model)
        arrays[f"{family}_subsample"] = result[..., ::8, ::8, :]
        arrays[f"{family}_mean"] = np.float64(result.mean())
        print(family, result.shape, hashlib.sha256(result.tobytes()).hexdigest())
    if out:
        np.savez_compressed(os.path.join(out, "presets.npz"), **arrays)


def hashes():
    for family in FAMILIES:
        keras.utils.set_random_seed(5)
        model = models.FAMILIES[family].from_preset("tiny")
        _, output = inputs(family, latent_dim=16)
        weights = b"".join(w.tobytes() for w in model.get_weights())
        print(family, hashlib.sha256(weights).hexdigest()[:16], hashlib.sha256(output(model).tobytes()).hexdigest())


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "save":
        save(sys.argv[2])
    elif command == "presets":
        presets(sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        hashes()
