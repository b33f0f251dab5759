"""Makes a preset directory travel: float16 `model.weights.h5` and a `metadata.json` with the files' sha256.

    python tools/make_preset.py tfvidgen/presets/simvp_cpu_small [...]

A preset written by `model.save_to_preset(DIR)` stores float32 weights. This rewrites every float32 array of
`DIR/model.weights.h5` as float16 (half the bytes; Keras casts them back to the model's dtype on load), checks that
the model still loads, then writes `DIR/metadata.json`: the fields already there (metrics, training command,
hardware, date: write them by hand from the run) and the sha256 of `config.json` and `model.weights.h5`, which
`from_preset` checks at load. Run it again after editing `config.json` to refresh the hashes.
"""

import argparse
import json
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfvidgen import models  # noqa: E402
from tfvidgen.models import preset_files  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="preset directories (config.json + model.weights.h5)")
    args = parser.parse_args()
    for path in args.paths:
        weights = os.path.join(path, preset_files.WEIGHTS_FILE)
        before = os.path.getsize(weights)
        preset_files.store_weights_as_float16(path)
        with open(os.path.join(path, preset_files.CONFIG_FILE)) as file:
            class_name = json.load(file)["class_name"]
        metadata = {key: value for key, value in preset_files.read_metadata(path).items() if key != "sha256"}
        preset_files.write_metadata(path, **metadata)
        getattr(models, class_name).from_preset(path)  # Loads, with the new hashes checked.
        after = os.path.getsize(weights)
        print(f"{path}: {class_name}, model.weights.h5 {before / 2**20:.1f} -> {after / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
