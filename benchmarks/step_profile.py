"""Where a training step goes: host input, device compute and Python/framework overhead, per family, TF and JAX.

    python benchmarks/step_profile.py [--families simvp,vae] [--preset cpu_small] [--steps 4]
        [--backends tensorflow,jax] [--steps-per-execution 1 8] [--timeout 900]

Each backend runs in a fresh process (`KERAS_BACKEND` is read once). Per family:
- input, ms per batch, the data source alone: the NumPy renderer of `ClipBatches` (the JAX CLI's host path
  before issue 29), the tf.data pipeline the CLI builds on TensorFlow, and `DeviceMovingMNIST` (rendered on the
  device, waited for);
- compute, ms per step: `train_on_batch` on a batch already on the device (median after a warm-up);
- fit, ms per step: `fit` over `--steps` steps of that same batch repeated (a `PyDataset`, so no input cost),
  once per `--steps-per-execution`; overhead = fit - compute, what Keras and Python add per step.
--steps should be a multiple of every --steps-per-execution. The CPU model and the device are printed first.
"""

import argparse
import json
import os
import subprocess
import sys

from postprocess import cpu_name  # benchmarks/postprocess.py: the CPU model line every benchmark prints

CHILD = r"""
import json, os, statistics, sys, time
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras, numpy as np
from tfvidgen.data import clip_batches, device_moving_mnist
from tfvidgen.families import PREDICTOR_FAMILIES
from tfvidgen.models import FAMILIES

families, preset, steps = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3])
executions = [int(value) for value in sys.argv[4].split(",")]
backend = keras.backend.backend()


def synced(value):
    if backend == "jax":
        return value.block_until_ready()
    return value.numpy() if hasattr(value, "numpy") else value


def per_call_ms(call, repeats):
    call()  # Warm-up: compiles.
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class Repeat(keras.utils.PyDataset):
    def __init__(self, batch, steps):
        super().__init__()
        self.batch, self.steps = batch, steps

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        return (self.batch,)


if backend == "jax":
    import jax
    device = str(jax.devices()[0])
else:
    import tensorflow as tf
    device = ", ".join(d.name for d in tf.config.list_logical_devices()[:1])
rows = []
for family in families:
    cls = FAMILIES[family]
    training = cls.presets[preset]["training"]
    model = cls.from_preset(preset)
    batch_size = training["batch_size"]
    if family in PREDICTOR_FAMILIES:
        num_frames, frame_shape = training["num_frames"], model.frame_shape
    else:
        num_frames, frame_shape = model.clip_shape[0], model.clip_shape[1:]
    row = {"family": family, "batch": batch_size}
    render = clip_batches.numpy_clips("moving_mnist", num_frames, frame_shape[:2], frame_shape[2])
    row["input_numpy"] = per_call_ms(lambda: render(np.random.default_rng(0), batch_size), steps)
    if backend == "tensorflow":
        from tfvidgen import data as data_lib
        dataset = data_lib.load_clips("moving_mnist", num_frames, frame_shape[:2], frame_shape[2], split="train")
        iterator = iter(data_lib.batch_dataset(dataset, batch_size))
        row["input_tf_data"] = per_call_ms(lambda: next(iterator), steps)
    device_batches = device_moving_mnist.DeviceMovingMNIST(
        batch_size, steps + 1, num_frames, frame_shape[:2], frame_shape[2]
    )
    index = iter(range(steps + 1))
    row["input_device"] = per_call_ms(lambda: synced(device_batches[next(index)][0]), steps)
    (batch,) = device_batches[0]
    for spe in executions:
        model = cls.from_preset(preset)
        model.compile(steps_per_execution=spe)
        if spe == executions[0]:
            row["compute"] = per_call_ms(lambda: model.train_on_batch(batch), steps)
        model.fit(Repeat(batch, spe), epochs=1, verbose=0, shuffle=False)  # Compiles fit's function.
        start = time.perf_counter()
        model.fit(Repeat(batch, steps), epochs=1, verbose=0, shuffle=False)
        row[f"fit_spe{spe}"] = (time.perf_counter() - start) * 1000 / steps
    rows.append(row)
print(json.dumps({"device": device, "rows": rows}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default="simvp,vae", help="comma-separated, or 'all'")
    parser.add_argument("--preset", default="cpu_small")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--steps-per-execution", type=int, nargs="+", default=[1])
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per backend")
    args = parser.parse_args()
    families = "convlstm,simvp,dcgan,vae" if args.families == "all" else args.families
    executions = args.steps_per_execution
    print(f"CPU: {cpu_name()} ({os.cpu_count()} logical cores); preset {args.preset}, {args.steps} steps")
    columns = ["input_numpy", "input_tf_data", "input_device", "compute"]
    columns += [f"fit_spe{spe}" for spe in executions] + [f"overhead_spe{spe}" for spe in executions]
    print("ms per batch or step; overhead = fit - compute (Keras + Python per step)")
    print(f"{'backend':11s}{'family':9s}{'batch':>6s}" + "".join(f"{name:>15s}" for name in columns), flush=True)
    source_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for backend in args.backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
        command = [sys.executable, "-c", CHILD, families, args.preset, str(args.steps), ",".join(map(str, executions))]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{backend:11s}did not finish in {args.timeout:.0f} s")
            continue
        if completed.returncode:
            print(f"{backend:11s}failed: {completed.stderr.strip().splitlines()[-1]}")
            continue
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        for row in result["rows"]:
            for spe in executions:
                row[f"overhead_spe{spe}"] = row[f"fit_spe{spe}"] - row["compute"]
            cells = "".join(f"{row[name]:15.1f}" if name in row else f"{'-':>15s}" for name in columns)
            print(f"{backend:11s}{row['family']:9s}{row['batch']:6d}" + cells, flush=True)
        print(f"{'':11s}device: {result['device']}")


if __name__ == "__main__":
    main()
