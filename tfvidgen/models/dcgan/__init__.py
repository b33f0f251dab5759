from tfvidgen.models.dcgan.video_dcgan import VideoDCGAN
from tfvidgen.models.dcgan.video_dcgan_presets import VIDEO_DCGAN_PRESETS
from tfvidgen.models.dcgan.video_discriminator import VideoDiscriminator
from tfvidgen.models.dcgan.video_generator import VideoGenerator
