"""VideoDCGAN presets: model config and the training settings they were sized for."""

from tfvidgen.schedules import LinearSchedule

VIDEO_DCGAN_PRESETS = {
    "tiny": {
        "description": "For tests: 4 frames of 16x16x1, latent 16, two stride-2 layers each way.",
        "config": {
            "clip_shape": (4, 16, 16, 1),
            "latent_dim": 16,
            "generator_filters": (32, 16),
            "discriminator_filters": (16, 32),
        },
        "training": {"batch_size": 8, "steps_per_epoch": 4, "epochs": 1},
    },
    "cpu_small": {
        "description": (
            "Moving MNIST on 2 CPU cores: 16 frames of 64x64x1, latent 64, generator filters "
            "128-64-32-16 growing by repeat + Conv3D, discriminator 16-32-64-128 with spectral norm, "
            "a minibatch standard deviation channel (groups of 4) against mode collapse, a per-frame "
            "stream 16-32-64-128 and a flicker penalty (from step 250) against flicker."
        ),
        "config": {
            "clip_shape": (16, 64, 64, 1),
            "latent_dim": 64,
            "generator_filters": (128, 64, 32, 16),
            "discriminator_filters": (16, 32, 64, 128),
            "spectral_norm": True,
            "minibatch_stddev_group": 4,
            # 15 CPU minutes each, same machine: Fréchet 146 against 740 with transposed convolutions, no
            # checkerboard, diversity 15.0 against 6.7 (docs/benchmarks.md).
            "generator_upsampling": "resize",
            # 15 CPU minutes each, same machine: flicker 6.1x real clips against 11.8x, Fréchet 129.2 against
            # 146.2, diversity 14.0 against 15.0, in 739 steps against 1,838 (docs/benchmarks.md).
            "frame_discriminator_filters": (16, 32, 64, 128),
            # Off for 250 generator steps, ramped to 100 by step 350. 45 CPU minutes each, same machine (772 and
            # 814 steps): flicker 1.18x real clips, Fréchet 221.6, diversity 12.5, against 1.55x, 241.8, 11.6 at a
            # constant 100; without it the flicker was 10.0x at 15 minutes (docs/benchmarks.md).
            "flicker_penalty_weight": LinearSchedule(0.0, 100.0, steps=100, delay=250),
        },
        # The generator learns 2.5x faster than the discriminator (5e-4 vs 2e-4): at equal rates the
        # discriminator won within 300 steps and the generator collapsed to one clip (docs/benchmarks.md).
        "training": {"batch_size": 32, "steps_per_epoch": 200, "epochs": 5, "generator_learning_rate_multiplier": 2.5},
    },
    "gpu_moving_mnist": {
        "description": (
            "Moving MNIST on one GPU (JAX, bfloat16; tools/train_on_gpu.sh): the cpu_small design at twice "
            "the width, latent 128: generator 256-128-64-32 by repeat + Conv3D, discriminator 32-64-128-256 "
            "with spectral norm and a minibatch standard deviation channel."
        ),
        "config": {
            "clip_shape": (16, 64, 64, 1),
            "latent_dim": 128,
            "generator_filters": (256, 128, 64, 32),
            "discriminator_filters": (32, 64, 128, 256),
            "spectral_norm": True,
            "minibatch_stddev_group": 4,
            "generator_upsampling": "resize",
        },
        "training": {
            "batch_size": 64,
            "steps_per_epoch": 200,
            "epochs": 100,
            "generator_learning_rate_multiplier": 2.5,
        },
    },
    "gpu_64x64x3": {
        "description": (
            "For GPU/TPU on UCF-101 or BAIR through tfds: 16 frames of 64x64x3, VGAN's two-stream "
            "generator (512-256-128-64), spectrally normalized discriminator (64-128-256-512)."
        ),
        "config": {
            "clip_shape": (16, 64, 64, 3),
            "latent_dim": 100,
            "generator_filters": (512, 256, 128, 64),
            "discriminator_filters": (64, 128, 256, 512),
            "two_stream": True,
            "spectral_norm": True,
        },
        "training": {"batch_size": 64, "steps_per_epoch": 1000, "epochs": 100},
    },
}

# The cpu_small networks (small enough to ship) trained on one GPU by tools/train_on_gpu.sh (JAX, bfloat16, Moving
# MNIST rendered on the device); the flicker penalty's schedule counts steps, as on the CPU.
VIDEO_DCGAN_PRESETS["gpu_cpu_small"] = {
    "description": "The cpu_small DCGAN sized for one GPU: the same networks, batch 64 (tools/train_on_gpu.sh).",
    "config": dict(VIDEO_DCGAN_PRESETS["cpu_small"]["config"]),
    "training": dict(VIDEO_DCGAN_PRESETS["cpu_small"]["training"], batch_size=64, epochs=1000),
}
