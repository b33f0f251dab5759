"""Training and generation throughput of the GAN and VAE presets.

    python benchmarks/generative_throughput.py [--preset cpu_small] [--steps 10]

Training: clips/s of `train_on_batch` at the preset's batch size (after a
warm-up step), data already in memory. Generation: clips/s of
`VideoDCGAN.generate` / `VideoVAE.sample` at batch 1 and 64 (median of
repeated calls).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfvidgen.models import VideoDCGAN  # noqa: E402
from tfvidgen.models import VideoVAE  # noqa: E402


def training_rate(model, batch_size, steps):
    clips = np.random.default_rng(0).random((batch_size,) + model.clip_shape).astype(np.float32)
    model.train_on_batch(clips)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(clips)
    return batch_size * steps / (time.perf_counter() - start)


def generation_rate(function, batch_size, repeats):
    function(batch_size)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(function(batch_size))
        times.append(time.perf_counter() - start)
    return batch_size / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="cpu_small")
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    print(f"preset {args.preset}; clips/s")
    print(f"{'model':12s}{'clip':>18s}{'train':>10s}{'batch':>7s}{'gen@1':>9s}{'gen@64':>9s}")
    for cls in (VideoDCGAN, VideoVAE):
        model = cls.from_preset(args.preset)
        model.compile()
        batch_size = cls.presets[args.preset]["training"]["batch_size"]
        train = training_rate(model, batch_size, args.steps)
        generate = model.generate if cls is VideoDCGAN else model.sample
        single = generation_rate(lambda n: generate(n, seed=0), 1, 20)
        batched = generation_rate(lambda n: generate(n, seed=0), 64, 5)
        shape = "x".join(map(str, model.clip_shape))
        print(f"{cls.__name__:12s}{shape:>18s}{train:10.1f}{batch_size:7d}{single:9.1f}{batched:9.1f}")


if __name__ == "__main__":
    main()
