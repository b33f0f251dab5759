"""Turns a tfvidgen SavedModel export back into a Keras preset (config.json + model.weights.h5).

    python tools/saved_model_to_preset.py saved_models/convlstm_cpu_small [...]

The reference models in saved_models/ were shipped as SavedModels only, which
serve but cannot be fine-tuned. An export made by `tfvidgen.export` before
2026-11-29 tracks the model's variables in the model's own order (later ones
keep only the variables their signatures use, and presets are written by
`save_to_preset`), so the Keras model is rebuilt from
the export's recorded config and its variables are copied back one by one
(shapes checked). The result is verified: a deterministic output of the rebuilt
model must equal the export's to 1e-5, else nothing is written. The preset is
written beside the export (`DIR/config.json`, `DIR/model.weights.h5`), and
`Family.from_preset(DIR)` loads it.
"""

import argparse
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvidgen import models  # noqa: E402
from tfvidgen.export import saved_model as saved_model_lib  # noqa: E402
from tfvidgen.serving import ExportedModel  # noqa: E402

CLASSES = {
    "ConvLSTMPredictor": models.ConvLSTMPredictor,
    "VideoDCGAN": models.VideoDCGAN,
    "VideoVAE": models.VideoVAE,
    "FrameInterpolator": models.FrameInterpolator,
}


def rebuild(path):
    """The Keras model of export `path` (a version or base directory), with the export's weights."""
    version = saved_model_lib.latest_version(path)
    description = saved_model_lib.read_description(version)
    model = CLASSES[description["class_name"]].from_config(description["config"])
    exported = tf.saved_model.load(version).variables
    if not exported:
        raise ValueError(
            f"{version} lists no variables: exports written since 2026-11-29 save only what their signatures use. "
            "Write a preset from the Keras model instead (`model.save_to_preset(DIR)`)."
        )
    if len(exported) != len(model.variables):
        raise ValueError(f"{version}: {len(exported)} exported variables, the model has {len(model.variables)}.")
    for source, target in zip(exported, model.variables):
        if tuple(source.shape) != tuple(target.shape):
            raise ValueError(f"{version}: {source.name} {tuple(source.shape)} does not fit {target.path}.")
        target.assign(source.numpy())
    return model, version


def largest_difference(model, version):
    """max |Keras output - export output| on a deterministic output of the family."""
    exported = ExportedModel(version)
    rng = np.random.default_rng(0)
    family = exported.family
    if family == "convlstm":
        context = rng.random((2, model.context_frames) + tuple(model.frame_shape)).astype("float32")
        pair = model.predict_future(context, 5), exported.predict_future(context, 5)
    elif family == "vae":
        clips = rng.random((2,) + tuple(model.clip_shape)).astype("float32")
        pair = model.reconstruct(clips), exported.reconstruct(clips)
    elif family == "dcgan":
        pair = model.generate(3, seed=5), exported.generate(3, seed=5)
    else:
        frames = rng.random((2, 2) + tuple(model.frame_shape)).astype("float32")
        pair = model.interpolate(frames[:, 0], frames[:, 1]), exported.interpolate(frames[:, 0], frames[:, 1])
    return float(np.max(np.abs(np.asarray(pair[0]) - np.asarray(pair[1]))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="export base directories (e.g. saved_models/vae_cpu_small)")
    args = parser.parse_args()
    for path in args.paths:
        model, version = rebuild(path)
        difference = largest_difference(model, version)
        if difference > 1e-5:
            raise SystemExit(f"{path}: the rebuilt model differs from the export by {difference:.3g}; nothing written.")
        model.save_to_preset(path)
        size = os.path.getsize(os.path.join(path, "model.weights.h5"))
        print(f"{path}: {type(model).__name__} preset written ({size / 2**20:.1f} MiB), max |diff| {difference:.2g}")


if __name__ == "__main__":
    main()
