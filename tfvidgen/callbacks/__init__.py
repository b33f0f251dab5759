"""Training callbacks: sample videos, checkpoints and resume points written atomically, time limits."""

from tfvidgen.callbacks.best_checkpoint import BestCheckpoint
from tfvidgen.callbacks.finite_loss_check import FiniteLossCheck
from tfvidgen.callbacks.last_good_checkpoint import LastGoodCheckpoint
from tfvidgen.callbacks.metrics_csv import MetricsCSV
from tfvidgen.callbacks.resumable_backup import ResumableBackup
from tfvidgen.callbacks.time_limit import TimeLimit
from tfvidgen.callbacks.timed_snapshots import TimedSnapshots
from tfvidgen.callbacks.video_samples import VideoSamples
from tfvidgen.callbacks.video_samples import tensorboard_available
