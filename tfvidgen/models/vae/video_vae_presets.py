"""VideoVAE presets: model config and the training settings they were sized for."""

from tfvidgen import schedules

VIDEO_VAE_PRESETS = {
    "tiny": {
        "description": "For tests: 4 frames of 16x16x1, latent 8, two stride-2 layers each way.",
        "config": {
            "clip_shape": (4, 16, 16, 1),
            "latent_dim": 8,
            "encoder_filters": (8, 16),
            "decoder_filters": (16, 8),
        },
        "training": {"batch_size": 8, "steps_per_epoch": 4, "epochs": 1},
    },
    "cpu_small": {
        "description": (
            "Moving MNIST on 2 CPU cores: 16 frames of 64x64x1, latent 128, encoder 16-32-64-128, "
            "decoder 128-64-32-16, Bernoulli likelihood, KL weight warmed up from 0 to 1 over 500 steps."
        ),
        "config": {
            "clip_shape": (16, 64, 64, 1),
            # 15 CPU minutes each, same machine: 0.116 bits/dim, reconstructions 18.70 dB / SSIM 0.803 against
            # 0.121, 18.16 dB / 0.786 with latent 64, whose 64 dimensions were all in use (docs/benchmarks.md).
            "latent_dim": 128,
            "encoder_filters": (16, 32, 64, 128),
            "decoder_filters": (128, 64, 32, 16),
            "beta": schedules.LinearSchedule(0.0, 1.0, steps=500),
        },
        # Gradients of the per-clip ELBO have a global norm of 2,500-5,500 here; clipped at 10,000, one bad
        # batch cannot throw the encoder out as it did after 5,300 steps (KL 190 -> 270,000 nats; docs/benchmarks.md).
        # The rate decays to 0 over the planned run (cosine): 40.6 CPU minutes reached 0.1038 bits/dim and
        # reconstructions of 19.75 dB / SSIM 0.848, against 0.105 and 19.63 dB / 0.842 in 45 minutes at a constant
        # rate (same machine; docs/benchmarks.md).
        "training": {
            "batch_size": 32,
            "steps_per_epoch": 200,
            "epochs": 5,
            "global_clipnorm": 10_000.0,
            "learning_rate_schedule": "cosine",
        },
    },
    "gpu_moving_mnist": {
        "description": (
            "Moving MNIST on one GPU (JAX, bfloat16; tools/train_on_gpu.sh): the cpu_small design at twice "
            "the width, latent 128: encoder 32-64-128-256, decoder 256-128-64-32, Bernoulli likelihood, KL "
            "weight warmed up from 0 to 1 over 2,000 steps."
        ),
        "config": {
            "clip_shape": (16, 64, 64, 1),
            "latent_dim": 128,
            "encoder_filters": (32, 64, 128, 256),
            "decoder_filters": (256, 128, 64, 32),
            "beta": schedules.LinearSchedule(0.0, 1.0, steps=2_000),
        },
        "training": {"batch_size": 64, "steps_per_epoch": 200, "epochs": 100},
    },
    "gpu_64x64x3": {
        "description": (
            "For GPU/TPU on UCF-101 or BAIR through tfds: 16 frames of 64x64x3, latent 256, encoder "
            "64-128-256-512, decoder 512-256-128-64, Gaussian likelihood, cyclical KL annealing."
        ),
        "config": {
            "clip_shape": (16, 64, 64, 3),
            "latent_dim": 256,
            "encoder_filters": (64, 128, 256, 512),
            "decoder_filters": (512, 256, 128, 64),
            "reconstruction": "mse",
            "beta": schedules.CyclicalSchedule(period=10_000, ramp_fraction=0.5),
        },
        "training": {"batch_size": 64, "steps_per_epoch": 1000, "epochs": 100},
    },
}

# The cpu_small network (small enough to ship) trained on one GPU by tools/train_on_gpu.sh (JAX, bfloat16, Moving
# MNIST rendered on the device). A constant rate: the run's length is its time limit, and a cosine decay planned
# over --epochs would be cut off before it ends.
VIDEO_VAE_PRESETS["gpu_cpu_small"] = {
    "description": "The cpu_small VAE sized for one GPU: the same network, batch 128 (tools/train_on_gpu.sh).",
    "config": dict(VIDEO_VAE_PRESETS["cpu_small"]["config"]),
    "training": {"batch_size": 128, "steps_per_epoch": 200, "epochs": 1000, "global_clipnorm": 10_000.0},
}
