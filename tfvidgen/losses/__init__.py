"""Loss math for tfvidgen's custom training steps, kept out of `train_step`."""

from tfvidgen.losses.adversarial import ADVERSARIAL_LOSSES
from tfvidgen.losses.adversarial import discriminator_loss
from tfvidgen.losses.adversarial import generator_loss
from tfvidgen.losses.diffusion import masked_mean_squared_error
from tfvidgen.losses.reconstruction import L1L2
from tfvidgen.losses.reconstruction import RECONSTRUCTION_LOSSES
from tfvidgen.losses.reconstruction import reconstruction_loss
from tfvidgen.losses.temporal import brightness_change
from tfvidgen.losses.temporal import flicker_penalty
from tfvidgen.losses.variational import kl_divergence
from tfvidgen.losses.variational import kl_divergence_per_dimension
