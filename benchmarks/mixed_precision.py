"""Training step time of the families' presets under float32, mixed_bfloat16 and mixed_float16.

    python benchmarks/mixed_precision.py [--preset cpu_small] [--steps 5] [--policies float32 ...] [--timeout 600]
        [--families convlstm,dcgan,vae]

Each policy runs in a fresh process (the policy is global and must be set
before models are built); the median step time after a warm-up is printed.
Answers "does bfloat16 help on this CPU?" with a measurement.
"""

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, os, statistics, sys, time
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras, numpy as np
policy, preset, steps, families = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
if policy != "float32":
    keras.mixed_precision.set_global_policy(policy)
from tfvidgen.families import PREDICTOR_FAMILIES
from tfvidgen.models import FAMILIES
rng = np.random.default_rng(0)
results = {}
for family in families:
    cls = FAMILIES[family]
    model = cls.from_preset(preset)
    model.compile()
    batch = cls.presets[preset]["training"]["batch_size"]
    if family in PREDICTOR_FAMILIES:  # 10 context frames in, 10 future frames out.
        clips = rng.random((batch, 20) + model.frame_shape).astype("float32")
        data = (clips[:, :10], clips[:, 10:])
    else:
        data = (rng.random((batch,) + model.clip_shape).astype("float32"),)
    model.train_on_batch(*data)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(*data)
        times.append(time.perf_counter() - start)
    results[cls.__name__] = statistics.median(times) * 1000
print(json.dumps(results))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="cpu_small")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--policies", nargs="+", default=["float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per policy")
    parser.add_argument("--families", default="convlstm,dcgan,vae", help="comma-separated, e.g. dcgan,simvp")
    args = parser.parse_args()
    print(f"median ms per training step, preset {args.preset}", flush=True)
    header = False
    for policy in args.policies:
        try:
            completed = subprocess.run(
                [sys.executable, "-c", CHILD, policy, args.preset, str(args.steps), args.families],
                capture_output=True,
                text=True,
                check=True,
                timeout=args.timeout,
            )
        except subprocess.TimeoutExpired:
            print(f"{policy:18s}  did not finish {1 + args.steps} steps of each family in {args.timeout:.0f} s")
            continue
        times = json.loads(completed.stdout.strip().splitlines()[-1])
        if not header:
            print(f"{'policy':18s}" + "".join(f"{name:>20s}" for name in times))
            header = True
        print(f"{policy:18s}" + "".join(f"{value:20.0f}" for value in times.values()), flush=True)


if __name__ == "__main__":
    main()
