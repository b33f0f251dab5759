from tfvidgen.models.simvp.simvp_backbone import SimVPBackbone
from tfvidgen.models.simvp.simvp_predictor import SimVPPredictor
from tfvidgen.models.simvp.simvp_presets import SIMVP_PRESETS
