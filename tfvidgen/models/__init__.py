"""The tfvidgen model families."""

from tfvidgen.models.convlstm import CONVLSTM_PRESETS
from tfvidgen.models.convlstm import ConvLSTMPredictor
