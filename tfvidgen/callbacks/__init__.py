"""Training callbacks: sample videos, last-good checkpoints, time limits."""

from tfvidgen.callbacks.last_good_checkpoint import LastGoodCheckpoint
from tfvidgen.callbacks.time_limit import TimeLimit
from tfvidgen.callbacks.video_samples import VideoSamples
from tfvidgen.callbacks.video_samples import tensorboard_available
