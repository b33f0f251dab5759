"""The tfvidgen model families."""

from tfvidgen.models.convlstm import CONVLSTM_PRESETS
from tfvidgen.models.convlstm import ConvLSTMPredictor
from tfvidgen.models.dcgan import VIDEO_DCGAN_PRESETS
from tfvidgen.models.dcgan import VideoDCGAN
from tfvidgen.models.dcgan import VideoDiscriminator
from tfvidgen.models.dcgan import VideoGenerator
from tfvidgen.models.interpolator import FRAME_INTERPOLATOR_PRESETS
from tfvidgen.models.interpolator import FrameInterpolator
from tfvidgen.models.simvp import SIMVP_PRESETS
from tfvidgen.models.simvp import SimVPBackbone
from tfvidgen.models.simvp import SimVPPredictor
from tfvidgen.models.vae import VIDEO_VAE_PRESETS
from tfvidgen.models.vae import VideoDecoder
from tfvidgen.models.vae import VideoEncoder
from tfvidgen.models.vae import VideoVAE

# The registry's families (tfvidgen.families), each class under its `family` name.
FAMILIES = {cls.family: cls for cls in (ConvLSTMPredictor, SimVPPredictor, VideoDCGAN, VideoVAE, FrameInterpolator)}
