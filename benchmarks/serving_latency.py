"""Latency of every served signature through TensorFlow's C API (TF Serving's loader).

    python benchmarks/serving_latency.py [saved_models/convlstm_cpu_small | exports/NAME ...] [--repeats 20]

For each export (default: every preset under `saved_models/`; a preset directory is first exported to a temporary
directory, as `tfvidgen export --model saved_models/NAME --out DIR` does, since no SavedModel is stored), each
signature runs in the C API runner process at batch 1 and 16 (`sample`: 1 and 16 clips; `rollout`: 10 context
frames -> 10 future frames), and the median of `--repeats` timed calls after a warm-up call is printed.
"""

import argparse
import glob
import os
import statistics
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfvidgen import export  # noqa: E402


def request(name, specs, description, batch):
    rng = np.random.default_rng(0)
    config = description["config"]
    inputs = {}
    for key, spec in specs.items():
        if key in ("num_samples",):
            inputs[key] = np.array(batch, np.int32)
        elif key in ("seed",):
            inputs[key] = np.array(0, np.int32)
        elif key == "num_future_frames":
            inputs[key] = np.array(10, np.int32)
        elif key == "factor":  # interpolate_clip: `batch` frames doubled.
            inputs[key] = np.array(2, np.int32)
        elif key == "latents":
            inputs[key] = rng.normal(size=(batch, config["latent_dim"])).astype(np.float32)
        else:  # A video input.
            shape = [
                batch if index == 0 else (config.get("context_frames", 10) if size is None else size)
                for index, size in enumerate(spec["shape"])
            ]
            dtype = np.uint8 if spec["dtype"] == "uint8" else np.float32
            values = rng.random(shape)
            inputs[key] = (values * 255).astype(dtype) if dtype == np.uint8 else values.astype(dtype)
    return inputs


def exported(path, scratch):
    """`path` if it is an export, else the preset directory `path` exported under `scratch`."""
    if export.versions(path):
        return path
    from tfvidgen.cli.loading import load_any

    base = os.path.join(scratch, os.path.basename(os.path.normpath(path)))
    export.export_for_serving(load_any(path), base, version=1, warmup=False)
    return base


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exports", nargs="*")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    paths = args.exports or sorted(path for path in glob.glob("saved_models/*") if os.path.isdir(path))
    scratch = tempfile.TemporaryDirectory(prefix="serving_latency_")
    exports = [exported(path, scratch.name) for path in paths]
    print(f"median ms over {args.repeats} calls through TF_LoadSessionFromSavedModel/TF_SessionRun")
    print(f"{'export':28s}{'signature':22s}{'batch 1':>10s}{'batch 16':>10s}")
    for base in exports:
        path = export.latest_version(base)
        description = export.read_description(path)
        for name, specs in sorted(description["signatures"].items()):
            if name == "serving_default":
                continue
            medians = []
            for batch in (1, 16):
                _, report = export.run_through_c_api(
                    path, {name: request(name, specs, description, batch)}, repeat=args.repeats + 1
                )
                run = report["runs"][0]
                if "error" in run:
                    raise RuntimeError(f"{base} {name}: {run['error']}")
                medians.append(statistics.median(run["latencies_ms"][1:]))
            print(f"{os.path.basename(base):28s}{name:22s}{medians[0]:10.1f}{medians[1]:10.1f}")


if __name__ == "__main__":
    main()
