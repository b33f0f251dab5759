"""Does the DCGAN keep its samples diverse? Short runs of training settings, side by side.

    python benchmarks/gan_balance.py [--steps 600] [--threads 1]

A reduced `cpu_small` (8 frames of 32x32, latent 32, filters 64-32-16 / 16-32-64)
on built-in Moving MNIST, batch 32, fixed seed, for each setting below. Every
third of the run it prints the discriminator loss and mean scores, and the
sample spread: the per-pixel standard deviation across 64 samples (fixed
latents), averaged over pixels, next to that of 64 real clips. A generator
collapsed to one clip has a spread near 0; real clips have about 0.18. The
mean pixel value of samples is printed next to the real one (0.087).
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from generative_quality import clips_of  # noqa: E402
from tfvidgen import data  # noqa: E402
from tfvidgen.metrics.generative import brightness_flicker  # noqa: E402
from tfvidgen.models import VideoDCGAN  # noqa: E402

CONFIG = {
    "clip_shape": (8, 32, 32, 1),
    "latent_dim": 32,
    "generator_filters": (64, 32, 16),
    "discriminator_filters": (16, 32, 64),
}
SETTINGS = {
    "equal rates 2e-4": ({}, 2e-4, 2e-4),
    "equal rates, spectral norm + minibatch stddev": ({"spectral_norm": True, "minibatch_stddev_group": 4}, 2e-4, 2e-4),
    "G 5e-4 / D 2e-4, spectral norm + minibatch stddev": (
        {"spectral_norm": True, "minibatch_stddev_group": 4},
        2e-4,
        5e-4,
    ),
    "G 1e-3 / D 2e-4, spectral norm + minibatch stddev": (
        {"spectral_norm": True, "minibatch_stddev_group": 4},
        2e-4,
        1e-3,
    ),
    "G 5e-4 / D 2e-4, spectral norm + minibatch stddev, resize upsampling": (
        {"spectral_norm": True, "minibatch_stddev_group": 4, "generator_upsampling": "resize"},
        2e-4,
        5e-4,
    ),
}


def run(name, overrides, d_rate, g_rate, steps):
    keras.utils.set_random_seed(0)
    gan = VideoDCGAN(seed=0, **CONFIG, **overrides)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(d_rate, beta_1=0.5), g_optimizer=keras.optimizers.Adam(g_rate, beta_1=0.5)
    )
    frames, height, width, _ = CONFIG["clip_shape"]
    clips = data.moving_mnist(num_frames=frames, frame_size=(height, width), seed=0).batch(32, drop_remainder=True)
    real = clips_of("test", CONFIG["clip_shape"], 64, seed=1)
    latents = np.random.default_rng(5).normal(size=(64, CONFIG["latent_dim"])).astype("float32")
    start = time.monotonic()
    for third in range(1, 4):
        history = gan.fit(clips.prefetch(2), steps_per_epoch=steps // 3, epochs=1, verbose=0).history
        samples = gan.generate_from_latents(latents).numpy()
        row = {
            "setting": name,
            "step": third * (steps // 3),
            "d_loss": round(history["d_loss"][-1], 3),
            "real_score": round(history["real_score"][-1], 2),
            "fake_score": round(history["fake_score"][-1], 2),
            "sample_spread": round(float(samples.std(axis=0).mean()), 4),
            "real_spread": round(float(real.std(axis=0).mean()), 4),
            "sample_mean": round(float(samples.mean()), 3),
            "real_mean": round(float(real.mean()), 3),
            "sample_flicker": round(brightness_flicker(samples), 5),
            "real_flicker": round(brightness_flicker(real), 5),
            "seconds": round(time.monotonic() - start),
        }
        print(json.dumps(row), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all cores)")
    parser.add_argument("--only", action="append", help="run only the settings whose name contains this text")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    for name, (overrides, d_rate, g_rate) in SETTINGS.items():
        if not args.only or any(text in name for text in args.only):
            run(name, overrides, d_rate, g_rate, args.steps)


if __name__ == "__main__":
    main()
