"""FrameInterpolator presets: model config and the training settings they were sized for.

`training["num_frames"]` is the length of the clips loaded; each clip gives
`num_frames - 2 * gap` triplets (`tfvidgen.data.interpolation_triplets`).
"""

FRAME_INTERPOLATOR_PRESETS = {
    "tiny": {
        "description": "For tests: 16x16x1 frames, a 2-level U-Net of 8 and 16 filters.",
        "config": {
            "frame_shape": (16, 16, 1),
            "filters": (8, 16),
        },
        "training": {
            "num_frames": 4,
            "gap": 1,
            "batch_size": 8,
            "learning_rate": 1e-3,
            "steps_per_epoch": 4,
            "epochs": 1,
        },
    },
    "cpu_small": {
        "description": (
            "Moving MNIST on 2 CPU cores (0.2-0.3 s a step): 64x64x1 frames, a 4-level U-Net "
            "(32-64-96-128 filters, 8x8 bottleneck) predicting per-pixel blend weights and a residual. "
            "8 minutes (1,765 steps) gave PSNR 22.2 dB / SSIM 0.913 on 512 validation triplets, "
            "linear blending 15.9 dB / 0.692."
        ),
        "config": {
            "frame_shape": (64, 64, 1),
            "filters": (32, 64, 96, 128),
        },
        "training": {
            "num_frames": 10,
            "gap": 1,
            "batch_size": 16,
            "learning_rate": 1e-3,
            "steps_per_epoch": 250,
            "epochs": 12,
        },
    },
    "cpu_rgb": {
        "description": (
            "RGB footage (video files, tfds, TFRecords): 128x128x3 frames, a 5-level U-Net "
            "(24-48-96-128-128 filters, 8x8 bottleneck: a receptive field for motions of tens of pixels)."
        ),
        "config": {
            "frame_shape": (128, 128, 3),
            "filters": (24, 48, 96, 128, 128),
        },
        "training": {
            "num_frames": 8,
            "gap": 1,
            "batch_size": 8,
            "learning_rate": 1e-3,
            "steps_per_epoch": 200,
            "epochs": 20,
        },
    },
}
