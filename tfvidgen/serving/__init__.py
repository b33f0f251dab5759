"""Using exports: TF Serving configs, request builders, clients, a local development server."""

from tfvidgen.serving.exported_model import ExportedModel
from tfvidgen.serving.model_config import model_config_list
