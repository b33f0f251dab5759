"""SimVPPredictor presets: model config and the training settings they were sized for."""

SIMVP_PRESETS = {
    "tiny": {
        "description": "For tests: 16x16 frames, 2 -> 2 frames, 8 spatial and 16 translator filters, 1 block.",
        "config": {
            "frame_shape": (16, 16, 1),
            "context_frames": 2,
            "future_frames": 2,
            "spatial_filters": 8,
            "spatial_strides": (1, 2),
            "translator_filters": 16,
            "translator_blocks": 1,
            "translator_kernel_size": 3,
            "patch_size": 2,
        },
        "training": {"num_frames": 4, "batch_size": 4, "learning_rate": 3e-3, "steps_per_epoch": 4, "epochs": 1},
    },
    "cpu_small": {
        "description": (
            "The reference predictor for 2 CPU cores: 64x64 frames folded by patch 2, encoder and decoder of "
            "32 filters at 32x32 and 16x16, 4 ConvNeXt translator blocks of 256 channels (7x7), 10 -> 10 frames."
        ),
        "config": {
            "frame_shape": (64, 64, 1),
            "context_frames": 10,
            "future_frames": 10,
            "spatial_filters": 32,
            "spatial_strides": (1, 2),
            "translator_filters": 256,
            "translator_blocks": 4,
            "translator_kernel_size": 7,
            "patch_size": 2,
        },
        "training": {
            "num_frames": 20,
            "batch_size": 16,
            "learning_rate": 1e-3,
            "steps_per_epoch": 100,
            "epochs": 45,
        },
    },
}

# The cpu_small network (small enough to ship) trained on one GPU by tools/train_on_gpu.sh (JAX, bfloat16, Moving
# MNIST rendered on the device): 4x the batch, the rate scaled by its square root; the run's length is its time limit.
SIMVP_PRESETS["gpu_cpu_small"] = {
    "description": "The cpu_small predictor sized for one GPU: the same network, batch 64 (tools/train_on_gpu.sh).",
    "config": dict(SIMVP_PRESETS["cpu_small"]["config"]),
    "training": dict(SIMVP_PRESETS["cpu_small"]["training"], batch_size=64, learning_rate=2e-3, epochs=1000),
}
