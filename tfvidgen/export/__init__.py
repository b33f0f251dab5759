"""SavedModel export for TF Serving: versioned atomic writes, warm-up requests, C API check."""

from tfvidgen.export.endpoints import Endpoint
from tfvidgen.export.saved_model import build_archive
from tfvidgen.export.saved_model import export_for_serving
from tfvidgen.export.saved_model import latest_version
from tfvidgen.export.saved_model import model_endpoints
from tfvidgen.export.saved_model import read_description
from tfvidgen.export.saved_model import read_warmup_requests
from tfvidgen.export.saved_model import versions
from tfvidgen.export.servable import ServabilityError
from tfvidgen.export.servable import check_servable
from tfvidgen.export.servable import run_through_c_api
from tfvidgen.export.servable import signature_defs
