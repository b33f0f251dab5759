"""Packs `tfvidgen train` run directories small enough to carry off a machine, and unpacks them into models.

    python tools/pack_runs.py pack runs/gpu runs-gpu.tar       # where the runs were trained (no TensorFlow needed);
                                                               # a directory of runs, or one run
    python tools/pack_runs.py unpack runs-gpu.tar runs/gpu     # here: model.keras rebuilt per run
    python tools/pack_runs.py unpack runs-gpu.tar runs/gpu --presets saved_models --suffix _gpu
                                                               # and each run as a shipped preset directory

A run's `model.keras` carries the optimizer state (3x the weights). The pack keeps each run's config.json,
summary.json, metrics.csv and last samples, and its model's weights as float16 (half of float32; the models were
trained in bfloat16 mixed precision, whose float32 master weights round to float16 with a relative error under
5e-4). Unpacking rebuilds each model from its recorded config with those weights, as `model.keras` without
optimizer state: ready to evaluate and export, or to fine-tune with a fresh optimizer. With `--presets DIR`, each
run also becomes a preset directory `DIR/<run name><suffix>/` as the references ship (`config.json`, float16
`model.weights.h5`, `metadata.json` with the run's command, backend, versions, training settings and the files'
sha256); add the evaluated metrics to its `metadata.json` and a README, then `python tools/make_preset.py DIR/NAME`.
"""

import argparse
import glob
import io
import json
import os
import tarfile

import numpy as np

KEPT_FILES = ("config.json", "summary.json", "metrics.csv")


def _add_bytes(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def pack(runs, archive_path):
    import keras

    import tfvidgen.models  # noqa: F401  (registers the classes model.keras names)
    from tfvidgen import atomic_files

    with atomic_files.atomic_path(archive_path) as temporary, tarfile.open(temporary, "w") as archive:
        if os.path.exists(os.path.join(runs, "model.keras")):  # One run directory.
            found = [os.path.join(runs, "model.keras")]
        else:
            found = sorted(glob.glob(os.path.join(runs, "*", "model.keras")))
        for run in found:
            directory = os.path.dirname(run)
            name = os.path.basename(directory)
            for kept in KEPT_FILES:
                if os.path.exists(os.path.join(directory, kept)):
                    archive.add(os.path.join(directory, kept), f"{name}/{kept}")
            samples = sorted(glob.glob(os.path.join(directory, "samples", "*.gif")))
            last_epoch = samples[-1].rsplit("_epoch_", 1)[-1] if samples else None
            for sample in samples:
                if sample.endswith(f"_epoch_{last_epoch}"):
                    archive.add(sample, f"{name}/samples/{os.path.basename(sample)}")
            weights = keras.saving.load_model(run).get_weights()
            buffer = io.BytesIO()
            np.savez(buffer, *[np.asarray(weight, np.float16) for weight in weights])
            _add_bytes(archive, f"{name}/weights_float16.npz", buffer.getvalue())
            print(f"packed {name}: {len(weights)} weight arrays")


def unpack(archive_path, runs, presets=None, suffix=""):
    import tfvidgen.models

    from tfvidgen import atomic_files
    from tfvidgen.models import preset_files

    with tarfile.open(archive_path) as archive:
        archive.extractall(runs, filter="data")
        packed = sorted(name for name in archive.getnames() if name.endswith("/weights_float16.npz"))
    for weights_path in (os.path.join(runs, name) for name in packed):  # This archive's runs only.
        directory = os.path.dirname(weights_path)
        with open(os.path.join(directory, "config.json")) as file:
            config = json.load(file)
        model = getattr(tfvidgen.models, config["model_class"]).from_config(config["model_config"])
        with np.load(weights_path) as stored:
            model.set_weights([stored[f"arr_{index}"].astype(np.float32) for index in range(len(stored.files))])
        atomic_files.save_model(model, os.path.join(directory, "model.keras"))
        print(f"unpacked {directory}/model.keras ({config['model_class']}, {model.count_params():,} parameters)")
        if presets:
            preset = os.path.join(presets, os.path.basename(directory) + suffix)
            model.save_to_preset(preset)
            preset_files.store_weights_as_float16(preset)
            summary_path = os.path.join(directory, "summary.json")
            summary = {}
            if os.path.exists(summary_path):
                with open(summary_path) as file:
                    summary = json.load(file)
            command = config.get("command") or []
            preset_files.write_metadata(
                preset,
                name=os.path.basename(preset),
                command=" ".join(["tfvidgen", *command[1:]]) if command else None,
                backend=config.get("backend"),
                versions=config.get("versions"),
                training=config.get("training"),
                optimizer_steps=summary.get("optimizer_steps"),
                weights_dtype="float16",
                metrics={},  # Fill in from `tfvidgen evaluate` / benchmarks/generative_quality.py.
            )
            print(f"  preset {preset} (float16 weights, metadata.json)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("pack", "unpack"))
    parser.add_argument("source")
    parser.add_argument("destination")
    parser.add_argument("--presets", help="unpack: also write each run as a preset directory under this directory")
    parser.add_argument("--suffix", default="", help="unpack --presets: appended to each run's name (e.g. _gpu)")
    args = parser.parse_args()
    if args.action == "pack":
        pack(args.source, args.destination)
    else:
        unpack(args.source, args.destination, presets=args.presets, suffix=args.suffix)


if __name__ == "__main__":
    main()
