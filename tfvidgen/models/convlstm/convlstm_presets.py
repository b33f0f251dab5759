"""ConvLSTMPredictor presets: model config and the training settings they were sized for."""

from tfvidgen import schedules

CONVLSTM_PRESETS = {
    "tiny": {
        "description": "For tests: 2 ConvLSTM layers of 8 filters, 16x16 frames, patch 2.",
        "config": {
            "frame_shape": (16, 16, 1),
            "filters": (8, 8),
            "kernel_sizes": 3,
            "patch_size": 2,
            "context_frames": 2,
            "teacher_forcing": None,
        },
        "training": {"num_frames": 4, "batch_size": 4, "learning_rate": 3e-3, "steps_per_epoch": 4, "epochs": 1},
    },
    "cpu_small": {
        "description": (
            "Learns Moving MNIST on 2 CPU cores in minutes: 64x64 frames folded by patch 4 to "
            "16x16x16, 2 ConvLSTM layers of 64 filters (3x3), 10 -> 10 frames, scheduled sampling "
            "from teacher forcing to free running over 500 steps."
        ),
        "config": {
            "frame_shape": (64, 64, 1),
            "filters": (64, 64),
            "kernel_sizes": 3,
            "patch_size": 4,
            "context_frames": 10,
            # Teacher forcing alone leaves the rollout to diverge on its own blurred frames
            # (exposure bias): validation rollout MSE rose from 235 to 536 in a 10-minute run.
            "teacher_forcing": schedules.LinearSchedule(1.0, 0.0, steps=500),
        },
        "training": {"num_frames": 20, "batch_size": 16, "learning_rate": 1e-3, "steps_per_epoch": 40, "epochs": 3},
    },
    "openstl_convlstm_s": {
        "description": (
            "OpenSTL's ConvLSTM-S for Moving MNIST (GPU/TPU): 4 layers of 128 filters, 5x5, patch 4, "
            "scheduled sampling from teacher forcing to free running over 50k steps, 10 -> 10 frames."
        ),
        "config": {
            "frame_shape": (64, 64, 1),
            "filters": (128, 128, 128, 128),
            "kernel_sizes": 5,
            "patch_size": 4,
            "context_frames": 10,
            "teacher_forcing": schedules.LinearSchedule(1.0, 0.0, steps=50_000),
        },
        "training": {"num_frames": 20, "batch_size": 16, "learning_rate": 1e-3, "steps_per_epoch": 625, "epochs": 200},
    },
}
