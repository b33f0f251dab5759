"""Reusable tfvidgen layers."""

from tfvidgen.layers.brightness_track import BrightnessTrack
from tfvidgen.layers.coordinate_channels import CoordinateChannels
from tfvidgen.layers.latent_prior import LatentPrior
from tfvidgen.layers.leaky_relu import LeakyReLU
from tfvidgen.layers.minibatch_stddev import MinibatchStddev
from tfvidgen.layers.patching import DepthToSpace
from tfvidgen.layers.patching import SpaceToDepth
from tfvidgen.layers.sampling import Sampling
from tfvidgen.layers.sinusoidal_embedding import SinusoidalEmbedding
from tfvidgen.layers.temporal_attention import TemporalAttention
from tfvidgen.layers.time_distributed import TimeDistributed
