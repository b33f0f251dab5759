"""Video metrics: per-frame scores as Keras metrics, dataset evaluation, baselines."""

from tfvidgen.metrics.evaluation import BASELINES
from tfvidgen.metrics.evaluation import INTERPOLATION_BASELINES
from tfvidgen.metrics.evaluation import all_black
from tfvidgen.metrics.evaluation import copy_last_frame
from tfvidgen.metrics.evaluation import evaluate_interpolation
from tfvidgen.metrics.evaluation import evaluate_predictions
from tfvidgen.metrics.evaluation import format_table
from tfvidgen.metrics.evaluation import linear_blend
from tfvidgen.metrics.frame_metrics import PER_FRAME_METRICS
from tfvidgen.metrics.frame_metrics import PSNR
from tfvidgen.metrics.frame_metrics import SSIM
from tfvidgen.metrics.frame_metrics import FrameMAE
from tfvidgen.metrics.frame_metrics import FrameMSE
from tfvidgen.metrics.frame_metrics import per_frame_mae
from tfvidgen.metrics.frame_metrics import per_frame_mse
from tfvidgen.metrics.frame_metrics import per_frame_psnr
from tfvidgen.metrics.frame_metrics import per_frame_ssim
from tfvidgen.metrics.feature_extractor import ClipFeatures
from tfvidgen.metrics.feature_extractor import load_feature_extractor
from tfvidgen.metrics.frechet import GaussianStatistics
from tfvidgen.metrics.frechet import frechet_distance
from tfvidgen.metrics.frechet import mean_pairwise_distance
from tfvidgen.metrics.likelihood import PixelBernoulliBaseline
