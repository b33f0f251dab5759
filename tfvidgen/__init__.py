"""tfvidgen: video prediction and generation models for TensorFlow 2 and Keras 3.

Five model families (`tfvidgen.models.FAMILIES`) share one API (presets, `fit`,
`.keras` saving, SavedModel export) and play one of three roles: frame
prediction (`ConvLSTMPredictor`, `SimVPPredictor`: `predict_future`), generation
(`VideoDCGAN`, `VideoVAE`: `sample`, `decode`, `interpolate_latents`) and frame
interpolation (`FrameInterpolator`: `interpolate`, `interpolate_clip`); the role
decides the serving signatures, previews and CLI behaviour (docs/architecture.md).
Submodules are imported on first use, so `import tfvidgen` is cheap.
"""

import importlib

from tfvidgen import quiet_import

__version__ = "0.1.0"

quiet_import.install()  # TensorFlow's C++ start-up lines, held back (replayed if its import fails).

_SUBMODULES = (
    "callbacks",
    "data",
    "distribute",
    "export",
    "layers",
    "losses",
    "metrics",
    "models",
    "plotting",
    "replica_random",
    "schedules",
    "serving",
    "validation",
    "video_io",
)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"tfvidgen.{name}")
    raise AttributeError(f"module 'tfvidgen' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
