"""The tfvidgen model families and their roles."""

import importlib

from tfvidgen import families as _families
from tfvidgen.models.convlstm import CONVLSTM_PRESETS
from tfvidgen.models.convlstm import ConvLSTMPredictor
from tfvidgen.models.dcgan import VIDEO_DCGAN_PRESETS
from tfvidgen.models.dcgan import VideoDCGAN
from tfvidgen.models.dcgan import VideoDiscriminator
from tfvidgen.models.dcgan import VideoGenerator
from tfvidgen.models.frame_predictor import FramePredictor
from tfvidgen.models.generative_model import GenerativeModel
from tfvidgen.models.interpolator import FRAME_INTERPOLATOR_PRESETS
from tfvidgen.models.interpolator import FrameInterpolator
from tfvidgen.models.interpolator_model import InterpolatorModel
from tfvidgen.models.model_role import ModelRole
from tfvidgen.models.simvp import SIMVP_PRESETS
from tfvidgen.models.simvp import SimVPBackbone
from tfvidgen.models.simvp import SimVPPredictor
from tfvidgen.models.vae import VIDEO_VAE_PRESETS
from tfvidgen.models.vae import VideoDecoder
from tfvidgen.models.vae import VideoEncoder
from tfvidgen.models.vae import VideoVAE

# Each role's class, by the role's name in tfvidgen.families.
ROLE_CLASSES = {"prediction": FramePredictor, "generation": GenerativeModel, "interpolation": InterpolatorModel}


def _family_class(entry):
    cls = getattr(importlib.import_module(f"tfvidgen.models.{entry.package}"), entry.class_name)
    globals().setdefault(entry.class_name, cls)  # `tfvidgen.models.<ClassName>` for a family added to the table.
    return cls


# The registry's families (tfvidgen.families), each class under its `family` name.
FAMILIES = {family: _family_class(entry) for family, entry in _families.FAMILY_TABLE.items()}
