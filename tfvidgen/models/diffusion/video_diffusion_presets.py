"""VideoDiffusion presets: flat configs (each key to the task, the backbone or the autoencoder) and their training."""

VIDEO_DIFFUSION_PRESETS = {
    "tiny_pixel": {
        "description": "For tests: 4 frames of 16x16x1 in pixel space, U-Net widths 16-32, 10 classes.",
        "config": {
            "clip_shape": (4, 16, 16, 1),
            "backbone_clip_shape": (4, 16, 16, 1),
            "widths": (16, 32),
            "num_heads": 2,
            "num_classes": 10,
            "embedding_dim": 32,
            "groups": 4,
            "sampling_steps": 8,
        },
        "training": {"batch_size": 4, "steps_per_epoch": 4, "epochs": 1, "learning_rate": 3e-3},
    },
    "tiny": {
        "description": "For tests: 4 frames of 16x16x1 through a 4x4x4 latent autoencoder, as cpu_small is built.",
        "config": {
            "clip_shape": (4, 16, 16, 1),
            "frame_shape": (16, 16, 1),
            "autoencoder_filters": (8, 16),
            "latent_channels": 4,
            "autoencoder_groups": 4,
            "backbone_clip_shape": (4, 4, 4, 4),
            "widths": (16, 32),
            "num_heads": 2,
            "num_classes": 10,
            "embedding_dim": 32,
            "groups": 4,
            "sampling_steps": 8,
        },
        "training": {"batch_size": 4, "steps_per_epoch": 4, "epochs": 1, "learning_rate": 3e-3},
    },
    "cpu_small": {
        "description": (
            "Moving MNIST on 2 CPU cores: 16 frames of 64x64x1 encoded frame by frame to 16x16x4 latents "
            "(autoencoder 32-64), a space-time U-Net of widths 32-64-128 with temporal attention at 8x8 and 4x4 "
            "and spatial attention at 4x4, 10 digit classes, v-prediction."
        ),
        "config": {
            "clip_shape": (16, 64, 64, 1),
            "frame_shape": (64, 64, 1),
            "autoencoder_filters": (32, 64),
            "latent_channels": 4,
            "backbone_clip_shape": (16, 16, 16, 4),
            "widths": (32, 64, 128),
            "temporal_attention_levels": (1, 2),
            "spatial_attention_levels": (2,),
            "num_classes": 10,
            "objective": "v",
            "ema_momentum": 0.995,
            "sampling_steps": 25,
        },
        "training": {"batch_size": 8, "steps_per_epoch": 100, "epochs": 30, "learning_rate": 5e-4},
    },
}
