"""Video metrics: per-frame scores as Keras metrics, dataset evaluation, baselines.

The per-frame metrics run on every Keras backend; the dataset evaluation and
the feature extractor use `tf.data` and are imported on first use, so
`import tfvidgen.metrics` needs no TensorFlow.
"""

import importlib

from tfvidgen.metrics.frame_metrics import PER_FRAME_METRICS
from tfvidgen.metrics.frame_metrics import PSNR
from tfvidgen.metrics.frame_metrics import SSIM
from tfvidgen.metrics.frame_metrics import FrameMAE
from tfvidgen.metrics.frame_metrics import FrameMSE
from tfvidgen.metrics.frame_metrics import per_frame_mae
from tfvidgen.metrics.frame_metrics import per_frame_mse
from tfvidgen.metrics.frame_metrics import per_frame_psnr
from tfvidgen.metrics.frame_metrics import per_frame_ssim
from tfvidgen.metrics.frechet import GaussianStatistics
from tfvidgen.metrics.frechet import frechet_distance
from tfvidgen.metrics.frechet import mean_pairwise_distance
from tfvidgen.metrics.likelihood import PixelBernoulliBaseline

_LAZY = {
    "BASELINES": "evaluation",
    "INTERPOLATION_BASELINES": "evaluation",
    "all_black": "evaluation",
    "copy_last_frame": "evaluation",
    "evaluate_interpolation": "evaluation",
    "evaluate_predictions": "evaluation",
    "format_table": "evaluation",
    "linear_blend": "evaluation",
    "ClipFeatures": "feature_extractor",
    "load_feature_extractor": "feature_extractor",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"tfvidgen.metrics.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'tfvidgen.metrics' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
