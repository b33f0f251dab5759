from tfvidgen.models.vae.video_decoder import VideoDecoder
from tfvidgen.models.vae.video_encoder import VideoEncoder
from tfvidgen.models.vae.video_vae import VideoVAE
from tfvidgen.models.vae.video_vae_presets import VIDEO_VAE_PRESETS
