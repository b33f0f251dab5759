"""Training speed of each family on TensorFlow and on JAX, side by side, on this machine.

    python benchmarks/backends.py [--preset cpu_small] [--steps 5] [--families convlstm,dcgan,vae]
    python benchmarks/backends.py --flops --preset gpu [--mixed-precision bfloat16]

Each backend runs in its own process (Keras fixes the backend at import), on random clips of the preset's shape
and batch: two warm-up steps (compilation), then `--steps` timed `train_on_batch` steps. Prints clips/s per family
and backend and their ratio. `--flops` prints XLA's FLOP count of one compiled JAX training step (its cost
analysis; for the ConvLSTM, whose scan XLA counts once, the analytic count of benchmarks/flops.py), the figure
the GPU benchmarks divide by the step time. `--preset gpu` means each family's GPU preset (openstl_convlstm_s, and
gpu_moving_mnist for the DCGAN and the VAE).
"""

import argparse
import json
import os
import subprocess
import sys
import time

GPU_PRESETS = {"convlstm": "openstl_convlstm_s", "dcgan": "gpu_moving_mnist", "vae": "gpu_moving_mnist"}


def _model_and_batch(family, preset, mixed_precision=None):
    import keras
    import numpy as np

    from tfvidgen.models import FAMILIES

    if mixed_precision:
        keras.mixed_precision.set_global_policy(f"mixed_{mixed_precision}")
    cls = FAMILIES[family]
    preset = GPU_PRESETS[family] if preset == "gpu" else preset
    model = cls.from_preset(preset, seed=0)
    model.compile()
    training = cls.presets[preset]["training"]
    shape = (training["num_frames"],) + model.frame_shape if family == "convlstm" else model.clip_shape
    clips = np.random.default_rng(0).random((training["batch_size"],) + tuple(shape)).astype("float32")
    return model, clips


def worker(backend, families, preset, steps):
    import keras

    assert keras.backend.backend() == backend, keras.backend.backend()
    results = {}
    for family in families:
        model, clips = _model_and_batch(family, preset)
        for _ in range(2):
            model.train_on_batch(clips)
        start = time.perf_counter()
        for _ in range(steps):
            logs = model.train_on_batch(clips, return_dict=True)
        float(next(iter(logs.values())))  # Waits for the last step.
        results[family] = steps * len(clips) / (time.perf_counter() - start)
    print(json.dumps(results))


def flops(families, preset, mixed_precision):
    import jax
    import keras

    for family in families:
        model, clips = _model_and_batch(family, preset, mixed_precision)
        if family == "convlstm":
            # XLA's cost analysis counts a loop's body once, not once per step: count the scan analytically
            # (benchmarks/flops.py), 19 input frames, a training step as 3x the forward pass.
            from flops import model_forward_flops_per_frame

            total = 3 * (clips.shape[1] - 1) * len(clips) * model_forward_flops_per_frame(model.backbone)
            print(
                f"{family:9s} {model.name:24s} batch {len(clips):3d}: {total / 1e9:10.1f} GFLOP per training step "
                "(analytic: benchmarks/flops.py)"
            )
            continue
        model.train_on_batch(clips)  # Builds every variable (optimizer slots, metrics).
        state = (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in model.optimizer.variables],
            [v.value for v in model.metrics_variables],
        )
        compiled = jax.jit(model.train_step).lower(state, (clips,)).compile()
        analysis = compiled.cost_analysis()
        analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
        print(
            f"{family:9s} {model.name:24s} batch {len(clips):3d}: {analysis['flops'] / 1e9:10.1f} GFLOP per training "
            f"step (XLA cost analysis, {keras.config.dtype_policy().name})"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu_small")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--families", default="convlstm,dcgan,vae")
    parser.add_argument("--flops", action="store_true", help="XLA's FLOPs of one JAX training step")
    parser.add_argument("--mixed-precision", choices=("float16", "bfloat16"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    families = args.families.split(",")
    if args.worker:
        return worker(args.worker, families, args.preset, args.steps)
    if args.flops:
        os.environ["KERAS_BACKEND"] = "jax"
        return flops(families, args.preset, args.mixed_precision)
    speeds = {}
    for backend in ("tensorflow", "jax"):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="1")
        command = [sys.executable, __file__, "--worker", backend, "--families", args.families]
        command += ["--preset", args.preset, "--steps", str(args.steps)]
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
        speeds[backend] = json.loads(output.strip().splitlines()[-1])
    print(f"training clips/s, preset {args.preset}, {args.steps} timed steps after 2 warm-up steps")
    print(f"{'family':10s} {'TensorFlow':>11s} {'JAX':>9s} {'JAX/TF':>8s}")
    for family in families:
        tf_speed, jax_speed = speeds["tensorflow"][family], speeds["jax"][family]
        print(f"{family:10s} {tf_speed:11.2f} {jax_speed:9.2f} {jax_speed / tf_speed:8.3f}")


if __name__ == "__main__":
    main()
